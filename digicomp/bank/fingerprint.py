"""A stable content hash of an item bank, independent of YAML formatting.

The hash identifies the exact bank version that a session or a calibration used: sha256 of a canonical JSON
rendering (keys sorted, no whitespace, UTF-8, absent and empty values dropped) of the validated bank, so
quoting, key order, comments, ``1`` versus ``1.0`` and flow versus block style do not change it, while any
parameter, key, text or tag does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(value: Any) -> Any:
    """``value`` with None and empty lists/mappings removed recursively (they mean 'not given')."""
    if isinstance(value, dict):
        out = {k: canonical(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def fingerprint(data: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of a bank in plain-data form (as ``ItemBank.to_dict`` gives)."""
    text = json.dumps(canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
