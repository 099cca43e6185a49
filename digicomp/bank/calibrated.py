"""A bank built from a calibration: estimated items marked ``calibrated`` with n, date and SEs.

Reads a calibration result by its attributes (``params``, ``fixed``, ``n_responses``, ``se``, ``se_method``), so
the bank layer needs nothing from :mod:`digicomp.calibration` (which sits above it).
"""

from __future__ import annotations

import datetime
from typing import Any

from digicomp.bank.itembank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.errors import BankError


def bank_from_calibration(
    result: Any,
    base: ItemBank | None = None,
    *,
    id: str | None = None,
    version: str | None = None,
    date: datetime.date | None = None,
) -> ItemBank:
    """An ItemBank whose estimated items are marked ``calibrated`` (n, date, SEs); fixed items keep their status.

    With ``base`` (an ItemBank) its items keep content and tags and only parameters and calibration change;
    items not in this calibration are kept as they are; ``id`` and ``version`` default to the base's (pass the
    next version: a changed bank under the old version would be two banks with one name). Without ``base``
    they default to "calibrated" and "1".
    """
    date = date or datetime.date.today()
    params, fixed = result.params, result.fixed
    records = {r["id"]: r for r in params.to_file_form()}
    position = {i: j for j, i in enumerate(params.ids)}

    def updated(item: dict[str, Any]) -> dict[str, Any]:
        j = position.get(item["id"])
        if j is None or fixed[j]:
            return item
        rec = records[item["id"]]
        values = {k: rec[k] for k in ("a", "b", "c", "d") if k in rec}
        if rec["model"] not in ("3PL", "4PL"):
            values.pop("c", None)
        if rec["model"] != "4PL":
            values.pop("d", None)
        se = {k: v for k, v in result.se.get(item["id"], {}).items() if k in values}
        calib = {
            "status": "calibrated",
            "n": max(int(result.n_responses[j]), 1),
            "date": date.isoformat(),
            "se": se,
            "method": f"MML-EM ({result.se_method})",
        }
        return {**item, "model": rec["model"], "params": values, "calibration": calib}

    if base is not None:
        data = base.to_dict()
        data["id"], data["version"] = id or data["id"], version or data["version"]
        data["items"] = [updated(it) for it in data["items"]]
        known = {it["id"] for it in data["items"]}
        data["items"] += [updated({"id": i}) for i in params.ids if i not in known and not fixed[position[i]]]
    else:
        data = {
            "kind": "item_bank",
            "id": id or "calibrated",
            "version": version or "1",
            "scale": {"D": params.D},
            "items": [updated({"id": i}) for j, i in enumerate(params.ids) if not fixed[j]],
        }
    try:
        spec = BankFile.model_validate(data)
    except ValueError as exc:
        raise BankError(f"cannot build a bank from the calibration: {exc}") from None
    return ItemBank(spec, media_root=base.media_root if base is not None else None)
