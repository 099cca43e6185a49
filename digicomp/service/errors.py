"""The service's refusals: an HTTP status, a stable machine-readable code and a message for people."""

from __future__ import annotations

from typing import Any

from digicomp.errors import DigicompError


class ApiError(DigicompError):
    """A refused request: ``status`` (4xx), ``code`` (documented in docs/service.md), ``message``, ``details``."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The JSON body of the error response: ``{"error": {"code", "message", ...details}}``."""
        return {"error": {"code": self.code, "message": self.message, **self.details}}
