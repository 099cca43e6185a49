"""Plain result tables: a dataclass of equal-length columns that turns into a dict of arrays or a DataFrame."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np


class Table:
    """Mixin for dataclasses whose array fields of the first field's length are the columns of one table.

    Scalars and arrays of another length (summaries, matrices) stay attributes and are left out of the table.
    """

    def as_dict(self) -> dict[str, Any]:
        """The table's columns (every field that is a list or 1-D array of the row count), in field order."""
        names = [f.name for f in fields(self)]  # type: ignore[arg-type]
        first = getattr(self, names[0])
        n = len(first)
        out = {}
        for name in names:
            value = getattr(self, name)
            if isinstance(value, list) and len(value) == n:
                out[name] = value
            elif isinstance(value, np.ndarray) and value.ndim == 1 and value.shape[0] == n:
                out[name] = value
        return out

    def to_frame(self) -> Any:
        """The table as a pandas DataFrame (needs pandas: ``pip install digicomp[pandas]``)."""
        import pandas as pd

        return pd.DataFrame(self.as_dict())
