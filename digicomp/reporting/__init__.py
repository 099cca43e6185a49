"""Reports of tests and studies: the result document, terminal text, self-contained HTML with optional plots."""

from digicomp.reporting.result import build_result, load_document, write_json
from digicomp.reporting.text import result_text

__all__ = ["build_result", "load_document", "result_text", "write_json"]
