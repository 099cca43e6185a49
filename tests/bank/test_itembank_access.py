"""An ItemBank reads like a collection of its items: iteration in bank order, lookup by id, membership, length."""

from __future__ import annotations

import pytest

from digicomp.bank import load_bank
from digicomp.bank.schema import Item
from digicomp.errors import BankError


@pytest.fixture(scope="module")
def bank():
    return load_bank("civil-service")


def test_iteration_gives_the_items_in_bank_order(bank):
    items = list(bank)
    assert all(isinstance(item, Item) for item in items)
    assert [item.id for item in items] == bank.ids
    assert [item.id for item in bank.items] == bank.ids and len(bank.items) == len(bank) == bank.n_items


def test_lookup_by_id_and_membership(bank):
    for k in (0, len(bank) // 2, -1):
        item_id = bank.ids[k]
        assert item_id in bank
        assert bank[item_id] is bank.items[k] is bank.item(item_id)
        assert bank[item_id].model == bank.params.models[bank.index_of(item_id)]
    assert "no-such-item" not in bank and 0 not in bank


def test_unknown_id_and_position_lookups_are_refused_with_a_named_error(bank):
    with pytest.raises(BankError, match=r"bank 'civil-service' has no item 'no-such-item'"):
        bank["no-such-item"]
    with pytest.raises(TypeError, match=r"use bank.items\[3\] for a position"):
        bank[3]


def test_the_items_cannot_be_changed_through_the_bank(bank):
    with pytest.raises(AttributeError):
        bank.items.append(bank.items[0])
