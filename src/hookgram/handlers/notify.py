"""The default handler of a source: tell every ``notify`` chat what arrived.

One event, several chats: each chat a message reaches is recorded, so a retry (after a 429,
a 5xx, or ``events retry --dead``) sends only to the chats still missing it. A send that
succeeded just before the process died is sent again: at-least-once, like everything else.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter

from hookgram.inbox.deliveries import DeliveryLog
from hookgram.inbox.models import Event
from hookgram.inbox.views import parsed_body, pretty_body, type_and_id
from hookgram.retry import Permanent, RetryLater, describe, is_permanent

MESSAGE_LIMIT = 4096  # Telegram's, in UTF-16 code units of the text after parsing
HEAD_PART_LIMIT = 64
ELLIPSIS = "…"


class NotifyHandler:
    """Sends each chat a readable message: source, event type and id, the body as JSON."""

    def __init__(
        self,
        bot: Bot,
        chats: Sequence[int],
        deliveries: DeliveryLog,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._bot = bot
        self._chats = tuple(chats)
        self._deliveries = deliveries
        self._clock = clock

    async def __call__(self, event: Event) -> None:
        """Send to every chat not reached yet; raise what the retry policy should see."""
        text = render(event)
        reached = await self._deliveries.delivered(event.id)
        failures: list[tuple[int, TelegramAPIError]] = []
        for chat in self._chats:
            if chat in reached:
                continue
            try:
                message = await self._bot.send_message(chat, text, parse_mode="HTML")
            except TelegramAPIError as exc:
                failures.append((chat, exc))
                if isinstance(exc, TelegramRetryAfter):
                    break  # flood control is per bot: the other chats would get 429 too
                continue
            await self._deliveries.record(event.id, chat, message.message_id, self._clock())
        if failures:
            raise _combined(failures)


def _combined(failures: Sequence[tuple[int, TelegramAPIError]]) -> Exception:
    """Dead only when every failed chat refused for good; else a retry, after any retry_after."""
    reasons = "; ".join(f"chat {chat}: {describe(exc)}" for chat, exc in failures)
    if all(is_permanent(exc) for _, exc in failures):
        return Permanent(reasons)
    waits = [exc.retry_after for _, exc in failures if isinstance(exc, TelegramRetryAfter)]
    return RetryLater(reasons, after=float(max(waits)) if waits else None)


def render(event: Event) -> str:
    """The message in Telegram's HTML: a bold head line, then the body in a ``pre`` block."""
    body = parsed_body(event)
    kind, ident = type_and_id(body) if isinstance(body, dict) else (None, None)
    head = " · ".join([event.source, *(_short(p) for p in (kind, ident) if p)])
    return fit(head, pretty_body(event) or "(empty body)")


def fit(head: str, body: str, limit: int = MESSAGE_LIMIT) -> str:
    """``head`` in bold and ``body`` preformatted, both escaped, the body cut to ``limit``.

    Telegram counts the limit on the text after its HTML is parsed (``&lt;`` is one
    character), in UTF-16 code units: so is the budget here.
    """
    budget = limit - _length(head) - 1  # the newline between them
    if _length(body) > budget:
        cut = body.encode("utf-16-le")[: 2 * (budget - len(ELLIPSIS))]
        body = cut.decode("utf-16-le", errors="ignore") + ELLIPSIS
    return f"<b>{html.escape(head, quote=False)}</b>\n<pre>{html.escape(body, quote=False)}</pre>"


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _short(text: str) -> str:
    return text if len(text) <= HEAD_PART_LIMIT else text[: HEAD_PART_LIMIT - 1] + ELLIPSIS
