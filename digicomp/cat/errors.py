"""The specific refusals of a session; each leaves the session as it was before the call."""

from __future__ import annotations

from digicomp.errors import SessionError


class WrongItemError(SessionError):
    """An answer for an item other than the one served (or when no item is waiting for an answer)."""


class DuplicateAnswerError(SessionError):
    """A second answer to an item already answered in this session."""


class InvalidAnswerError(SessionError):
    """An answer that is not one of the item's options or categories."""


class SessionFinishedError(SessionError):
    """An answer recorded on a session whose test is over."""


class StateMismatchError(SessionError):
    """A saved state made with another bank (fingerprint) or design (hash) than this engine's."""


class TamperedStateError(SessionError):
    """A saved state that is malformed (the message names the field), whose signature is missing or wrong, or that
    is not a state this engine could have written (the replay disagrees with it)."""


class ReplayedStateError(SessionError):
    """A client-held state older than the newest one this session reached (its step is below the replay guard's
    high-water mark): resending an earlier signed state to answer an item again is refused."""
