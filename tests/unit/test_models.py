"""The inbox's value objects against its tables."""

from __future__ import annotations

from dataclasses import fields

from hookgram.inbox.models import Event, Status, events


def test_an_event_is_built_from_a_row_in_the_tables_column_order() -> None:
    """Event.from_row reads rows positionally (the store's claim hands it plain tuples), so its
    fields must stay in the order of the ``events`` columns."""
    assert [f.name for f in fields(Event)] == [c.name for c in events.c]
    stored = (7, "telegram", "1:7", "chat:1", 1.0, b"{}", {}, "pending", 0, 1.0)
    row = (*stored, None, None, None, None)
    event = Event.from_row(row)
    assert (event.id, event.status, event.body, event.headers) == (7, Status.PENDING, b"{}", {})
