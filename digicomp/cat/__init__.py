"""The adaptive engine: selection, exposure control, content balancing, stopping, and resumable sessions.

One lock-step batch core (:class:`~digicomp.cat.core.CatCore` over a :class:`~digicomp.cat.state.BatchState`)
serves both a live :class:`~digicomp.cat.session.Session` (a batch of one) and Monte Carlo simulation.
"""

from digicomp.cat.core import CatCore
from digicomp.cat.design import Design, load_design
from digicomp.cat.draws import person_keys, session_key, uniforms
from digicomp.cat.engine import AdaptiveTest, validate_file
from digicomp.cat.errors import (
    DuplicateAnswerError,
    InvalidAnswerError,
    SessionFinishedError,
    StateMismatchError,
    TamperedStateError,
    WrongItemError,
)
from digicomp.cat.exposure import ExposureLedger
from digicomp.cat.selection import register_rule
from digicomp.cat.session import ItemView, Session
from digicomp.cat.state import BatchState

__all__ = [
    "AdaptiveTest",
    "BatchState",
    "CatCore",
    "Design",
    "DuplicateAnswerError",
    "ExposureLedger",
    "InvalidAnswerError",
    "ItemView",
    "Session",
    "SessionFinishedError",
    "StateMismatchError",
    "TamperedStateError",
    "WrongItemError",
    "load_design",
    "person_keys",
    "register_rule",
    "session_key",
    "uniforms",
    "validate_file",
]
