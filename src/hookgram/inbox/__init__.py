"""The inbox: every accepted webhook request, kept until it has been processed."""

from __future__ import annotations

from hookgram.inbox.models import Event, NewEvent, Status
from hookgram.inbox.store import InboxStore

__all__ = ["Event", "InboxStore", "NewEvent", "Status"]
