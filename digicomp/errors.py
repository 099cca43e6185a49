"""The one exception family of digicomp, and its warnings.

Every error a user can cause derives from :class:`DigicompError`, so an application can catch one type;
messages name the file, the item or person id, the field and what was expected.
"""

from __future__ import annotations


class DigicompError(Exception):
    """Base class of every error digicomp raises on bad input or a refused operation."""


class ParameterError(DigicompError, ValueError):
    """Item parameters that are out of range, malformed or inconsistent with their model."""


class ResponseError(DigicompError, ValueError):
    """Response data that cannot be scored: wrong shape, unknown item, code outside the categories."""


class FrameworkError(DigicompError):
    """A framework, level scale or crosswalk file that does not validate."""


class BankError(DigicompError):
    """An item bank that does not validate or does not fit its framework."""


class DesignError(DigicompError):
    """A CAT design file that does not validate."""


class SessionError(DigicompError):
    """A refused call on an adaptive-test session (wrong item, finished session, tampered state...)."""


class CalibrationError(DigicompError):
    """Calibration cannot proceed on the given data or settings."""


class StoreError(DigicompError):
    """The response store cannot be opened, read or written."""


class DigicompWarning(UserWarning):
    """Base class of digicomp warnings (data excluded, estimates at a bound...)."""


class ConvergenceWarning(DigicompWarning):
    """An iterative estimate stopped before meeting its convergence criterion."""


class DataWarning(DigicompWarning):
    """Some input was excluded or adjusted; the message says what and why."""


class ExposureWarning(DigicompWarning):
    """Exposure control did not hold its target (e.g. the ledger of past test takers could not keep up)."""


class DesignDeprecationWarning(DigicompWarning, FutureWarning):
    """A design uses a renamed key (shown by default, as FutureWarning is); the message names the new key."""
