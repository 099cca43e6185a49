"""Derive the multidimensional civil-service bank (areas as correlated dimensions) from the bundled bank.

Each item keeps its content, tags and provisional parameters; its slope vector has the item's provisional ``a``
on its area's dimension and 0 elsewhere (between-item structure), its intercept is mirt's d = -a·b (GRM: -a·b_k,
GPCM: -a·Σ b_v), its c and d are unchanged. The latent correlation between areas is an assumed 0.8, and the
overall result is the equally weighted composite of the eight areas. Everything is provisional (rule
``areas-v1``) until the bank is calibrated with ``digicomp calibrate --structure areas``. Items with media are
left out (their pictures live beside the bundled bank), and with them their places in other items' enemies.

    python examples/make_area_bank.py [OUT.yaml]     (default examples/banks/civil-service-areas.yaml)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from digicomp.bank import load_bank
from digicomp.io.yamlfile import dump_yaml

HERE = Path(__file__).parent
OUT = HERE / "banks" / "civil-service-areas.yaml"
CORRELATION = 0.8

RULE = {
    "vi": (
        "Tham số tạm thời suy ra từ ngân hàng civil-service (quy tắc level-v1), mỗi lĩnh vực là một chiều năng lực: "
        "độ dốc a của câu hỏi đặt trên chiều của lĩnh vực câu hỏi, bằng 0 ở các chiều khác; hệ số chặn d = -a·b "
        "(GRM: -a·b_k; GPCM: -a·tổng b); c, d giữ nguyên. Tương quan giữa các lĩnh vực giả định là 0,8; kết quả chung "
        "là trung bình có trọng số bằng nhau của tám lĩnh vực. Cần hiệu chỉnh bằng dữ liệu thật "
        "(digicomp calibrate --structure areas) trước khi dùng cho quyết định quan trọng."
    ),
    "en": (
        "Provisional parameters derived from the civil-service bank (rule level-v1) with each area as a dimension: "
        "an item's slope a sits on its area's dimension and is 0 on the others; intercept d = -a·b (GRM: -a·b_k; "
        "GPCM: -a·sum of b); c and d unchanged. The correlation between areas is an assumed 0.8; the overall result "
        "is the equally weighted composite of the eight areas. Calibrate with real data (digicomp calibrate "
        "--structure areas) before any high-stakes use."
    ),
}


def intercept(model: str, a: float, b: float | list[float]) -> float | list[float]:
    """mirt's intercept(s) of a unidimensional item in file form (D = 1)."""
    if model == "GPCM" or model == "PCM":
        return [round(float(v), 6) for v in -a * np.cumsum(b)]
    if isinstance(b, list):
        return [round(-a * v, 6) for v in b]
    return round(-a * b, 6)


def derive(source: str = "civil-service") -> dict[str, Any]:
    """The multidimensional bank as plain data."""
    bank = load_bank(source)
    if bank.scale.D != 1.0:
        raise SystemExit(f"bank {bank.id!r} has D = {bank.scale.D}; the derivation assumes D = 1")
    fw = bank.framework
    areas = bank.areas
    data = bank.to_dict()
    dims = [{"id": f"area-{code}", "name": _area_name(fw, code), "area": code} for code in areas]
    K = len(dims)
    items = []
    for j, item in enumerate(data["items"]):
        if "media" in item:
            continue
        p = item["params"]
        slopes = [0.0] * K
        slopes[int(bank.area_index[j])] = float(p.get("a", 1.0))
        new = {"a": slopes, "intercept": intercept(item["model"], float(p.get("a", 1.0)), p["b"])}
        new.update({k: p[k] for k in ("c", "d") if k in p})
        item["params"] = new
        item["calibration"] = {"status": "provisional", "rule": "areas-v1"}
        items.append(item)
    kept = {item["id"] for item in items}
    for item in items:  # an enemy left out with its picture is no longer an item of this bank
        if "enemies" in item:
            item["enemies"] = [e for e in item["enemies"] if e in kept]
            if not item["enemies"]:
                del item["enemies"]
    R = np.full((K, K), CORRELATION) + (1 - CORRELATION) * np.eye(K)
    data.update(
        id=f"{bank.id}-areas",
        title={
            "vi": "Ngân hàng câu hỏi năng lực số cho cán bộ, công chức (mỗi lĩnh vực một chiều năng lực; tạm thời)",
            "en": "Digital competence item bank for civil servants (one dimension per area; provisional)",
        },
        description={
            "vi": "Suy ra từ item_banks/civil-service.yaml bằng examples/make_area_bank.py.",
            "en": "Derived from item_banks/civil-service.yaml by examples/make_area_bank.py.",
        },
        dimensions=dims,
        latent={"correlation": R.tolist()},
        overall={"weights": {d["id"]: 1.0 for d in dims}},
        items=items,
    )
    data["rules"]["areas-v1"] = RULE
    order = [
        "kind",
        "id",
        "version",
        "title",
        "description",
        "framework",
        "scale",
        "rules",
        "dimensions",
        "latent",
        "overall",
        "items",
    ]
    return {k: data[k] for k in order if k in data}


def _area_name(fw: Any, code: str) -> dict[str, str]:
    area = next(a for a in fw.areas if a.code == code)
    name = area.name
    return {"vi": name.vi, "en": name.en} if hasattr(name, "vi") else dict(name)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    dump_yaml(derive(), out)
    bank = load_bank(out)
    print(f"wrote {out}: {bank.n_items} items on {bank.dims.n} dimensions ({', '.join(bank.dims.ids)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
