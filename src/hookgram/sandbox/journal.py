"""What happened, for the chat page's side panel: updates sent to the bot and its API calls."""

from __future__ import annotations

import collections
import time
from typing import Any

from hookgram.sandbox.feed import Feed

_KEPT_ENTRIES = 2000


class Journal:
    """The latest entries, each with a sequence number, the chat it concerns and its data."""

    def __init__(self, feed: Feed) -> None:
        self._feed = feed
        self._entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=_KEPT_ENTRIES)
        self._seq = 0

    def add(self, kind: str, chat_id: int | None, **data: Any) -> dict[str, Any]:
        """Append an entry ("update", "delivery" or "call") and wake the page."""
        self._seq += 1
        entry = {"seq": self._seq, "at": time.time(), "kind": kind, "chat_id": chat_id, **data}
        self._entries.append(entry)
        self._feed.bump()
        return entry

    def since(self, seq: int, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Entries after `seq`: of `chat_id` and those of no chat, or all when chat_id is None."""
        return [
            entry
            for entry in self._entries
            if entry["seq"] > seq and (chat_id is None or entry["chat_id"] in (chat_id, None))
        ]


def chat_of_call(params: dict[str, Any], result: Any) -> int | None:
    """The chat a Bot API call concerns, from its chat_id or the message it answered."""
    chat_id = params.get("chat_id")
    if isinstance(chat_id, int) and not isinstance(chat_id, bool):
        return chat_id
    if isinstance(result, dict) and isinstance(result.get("chat"), dict):
        found = result["chat"].get("id")
        return found if isinstance(found, int) else None
    return None
