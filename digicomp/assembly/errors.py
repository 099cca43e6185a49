"""The assembly package's error: a spec that does not validate, does not fit its bank, or cannot be met."""

from __future__ import annotations

from digicomp.errors import DigicompError


class AssemblyError(DigicompError):
    """An assembly spec (``kind: assembly_spec``) that does not validate, names what the bank lacks, or is
    infeasible; the message names the constraint and its file line."""
