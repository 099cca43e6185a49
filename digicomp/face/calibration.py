"""``digicomp.calibrate``: :func:`digicomp.calibration.calibrate` from files and anchor banks, and a result that
writes its mirt table and builds the next bank version."""

from __future__ import annotations

import datetime
from dataclasses import fields
from os import PathLike
from pathlib import Path
from typing import Any

from digicomp.bank import ItemBank, load_bank
from digicomp.bank.calibrated import bank_from_calibration
from digicomp.calibration import CalibrationResult
from digicomp.calibration import calibrate as calibrate_responses
from digicomp.face.scoring import is_file_or_frame
from digicomp.io.csvfile import write_csv
from digicomp.io.responses import read_responses


class Calibration(CalibrationResult):
    """A :class:`~digicomp.calibration.CalibrationResult` that also writes its table and builds a bank."""

    @classmethod
    def of(cls, result: CalibrationResult) -> Calibration:
        """The same result, with the file and bank conveniences."""
        return cls(**{f.name: getattr(result, f.name) for f in fields(result)})

    def to_csv(self, path: str | PathLike[str]) -> Path:
        """Write :meth:`mirt_table` as CSV; empty cells where a parameter does not apply or was not estimated."""
        return write_csv(path, *self.mirt_table())

    def to_bank(
        self, base: Any = None, *, id: str | None = None, version: str | None = None, date: datetime.date | None = None
    ) -> ItemBank:
        """An ItemBank whose estimated items are marked ``calibrated``; see
        :func:`digicomp.bank.calibrated.bank_from_calibration` for ``base``, ``id``, ``version`` and ``date``."""
        return bank_from_calibration(self, base, id=id, version=version, date=date)


def calibrate(responses: Any, model: Any = "2PL", *, fixed: Any = None, **options: Any) -> Calibration | Any:
    """Estimate item parameters (:func:`digicomp.calibration.calibrate`, same options).

    ``responses`` may also be a CSV path (long ``person,item,response`` or wide) or a pandas DataFrame, and
    ``fixed`` a bank YAML path or bundled bank id. Returns a :class:`Calibration`; a multidimensional fit
    (``structure=``) comes back as :func:`~digicomp.calibration.multidim.calibrate_multidim` gives it.
    """
    if is_file_or_frame(responses):
        responses = read_responses(responses)
    if isinstance(fixed, (str, PathLike)):
        fixed = load_bank(fixed)
    result = calibrate_responses(responses, model, fixed=fixed, **options)
    return Calibration.of(result) if isinstance(result, CalibrationResult) else result
