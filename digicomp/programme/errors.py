"""The programme report's error: a unit, person or target file that does not validate."""

from __future__ import annotations

from digicomp.errors import DigicompError


class ProgrammeError(DigicompError):
    """A unit tree, person list or target file that cannot be used; the message names the file and line."""
