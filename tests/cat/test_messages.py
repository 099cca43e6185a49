"""Refusals read well in the common case: a session started without a person id is not 'the session of None'."""

from __future__ import annotations

import pytest

from digicomp.cat import AdaptiveTest
from digicomp.errors import SessionError

from .conftest import params_bank


def refusals(person_id):
    """The messages of three refused calls on a session of ``person_id``."""
    engine = AdaptiveTest(params_bank(10), {"stop": {"max_items": 1}})
    session = engine.start(person_id=person_id, seed=1)
    item = session.next_item()
    messages = []
    with pytest.raises(SessionError) as info:
        session.record("not-served", 1)
    messages.append(str(info.value))
    session.record(item.id, 1)
    with pytest.raises(SessionError) as info:
        session.record(item.id, 1)
    messages.append(str(info.value))
    return messages


def test_messages_of_a_session_without_a_person_id_do_not_mention_none():
    for message in refusals(None):
        assert "None" not in message and message.startswith("session: ")


def test_messages_of_a_session_with_a_person_id_name_the_person():
    for message in refusals("u123"):
        assert message.startswith("session of 'u123': ")
