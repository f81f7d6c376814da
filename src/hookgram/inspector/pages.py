"""The inspector's pages over the inbox: the list, one row, and the replay and retry actions.

Every row is presented by ``hookgram.inbox.views`` (as in the CLI), with known secrets masked.
A request that asks for ``application/json`` gets the same records as JSON (for scripts).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.models import Event, Status
from hookgram.inbox.store import InboxStore
from hookgram.inbox.views import Redact, attempt_record, event_record, pretty_body
from hookgram.inspector.access import Sessions
from hookgram.inspector.rendering import BASE, Templates

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# Messages a redirect may ask a page to show (by key, so no text travels in the URL).
NOTICES = {
    "replayed": "Queued for replay: the worker runs its handler again.",
    "busy": "Not replayed: a worker holds this row right now. Try again when it is finished.",
    "retried": "Dead rows queued for another try: {count}.",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list shows: a source, a status, a page (rows older than ``before``)."""

    source: str | None = None
    status: Status | None = None
    before: int | None = None
    limit: int = PAGE_SIZE

    @classmethod
    def of(cls, request: web.Request) -> Filters:
        """From the query string; a bad value is a 400 saying what is expected."""
        query = request.query
        status = query.get("status") or None
        if status is not None and status not in {s.value for s in Status}:
            allowed = ", ".join(s.value for s in Status)
            raise web.HTTPBadRequest(text=f"status must be one of {allowed}\n")
        return cls(
            source=(query.get("source") or None),
            status=Status(status) if status else None,
            before=_number(query.get("before"), "before", 1, 2**63),
            limit=_number(query.get("limit"), "limit", 1, MAX_PAGE_SIZE) or PAGE_SIZE,
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes`` applied (None drops a key)."""
        limit = self.limit if self.limit != PAGE_SIZE else None
        values: dict[str, Any] = {
            "source": self.source,
            "status": self.status,
            "limit": limit,
            **changes,
        }
        return urlencode({k: str(v) for k, v in values.items() if v is not None})


def _number(text: str | None, name: str, low: int, high: int) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number from {low} to {high}\n")
    return int(text)


class Pages:
    """Request handlers of the inspector (the access guard runs before each)."""

    def __init__(
        self,
        store: InboxStore,
        counts: InboxCounts,
        templates: Templates,
        sessions: Sessions,
        *,
        redact: Redact,
        secret_headers: Mapping[str, Iterable[str]],
        on_requeue: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._secret_headers = secret_headers
        self._counts = counts
        self._templates = templates
        self._sessions = sessions
        self._redact = redact
        self._on_requeue = on_requeue
        self._clock = clock

    async def index(self, request: web.Request) -> web.StreamResponse:
        """The newest rows, filtered and paged, with the counts of every source."""
        filters = Filters.of(request)
        records, older = await self._records(filters)
        if _wants_json(request):
            return web.json_response({"events": records, "older": older})
        counts = await self._counts.refresh()
        sources = sorted({*self._counts.sources(), *([filters.source] if filters.source else [])})
        return self._templates.render(
            "list.html",
            records=records,
            older=older,
            filters=filters,
            counts=counts,
            sources=sources,
            statuses=[s.value for s in Status],
            live=filters.before is None,
            csrf=self._csrf(request),
            notice=_notice(request),
        )

    async def rows(self, request: web.Request) -> web.StreamResponse:
        """Just the table rows of the list, for the live refresh."""
        filters = Filters.of(request)
        records, _ = await self._records(filters)
        return self._templates.render("rows.html", records=records, filters=filters)

    async def event(self, request: web.Request) -> web.StreamResponse:
        """One row: facts, redacted headers, pretty body, every attempt."""
        event, record, attempts = await self._event(request)
        if _wants_json(request):
            return web.json_response({**record, "attempts": attempts})
        return self._templates.render(
            "event.html",
            e=record,
            attempts=attempts,
            body=pretty_body(event, self._redact),
            csrf=self._csrf(request),
            notice=_notice(request),
        )

    async def event_live(self, request: web.Request) -> web.StreamResponse:
        """The parts of one row that change (status, attempts), for the live refresh."""
        _, record, attempts = await self._event(request)
        return self._templates.render("event_live.html", e=record, attempts=attempts)

    async def replay(self, request: web.Request) -> web.StreamResponse:
        """Queue one finished row to be handled again."""
        event_id = int(request.match_info["id"])
        if await self._store.get(event_id) is None:
            raise web.HTTPNotFound(text=f"no inbox row {event_id}\n")
        requeued = await self._store.requeue(self._clock(), ids=[event_id])
        if requeued and self._on_requeue is not None:
            self._on_requeue()
        notice = "replayed" if requeued else "busy"
        raise web.HTTPSeeOther(f"{BASE}/events/{event_id}?notice={notice}")

    async def retry_dead(self, request: web.Request) -> web.StreamResponse:
        """Queue every dead row of one source for another try."""
        source = (await request.post()).get("source")
        if not isinstance(source, str) or not source or len(source) > 64:
            raise web.HTTPBadRequest(text="the form needs the source whose dead rows to retry\n")
        count = await self._store.requeue(self._clock(), source=source, status=Status.DEAD)
        if count and self._on_requeue is not None:
            self._on_requeue()
        query = urlencode({"source": source, "notice": "retried", "count": count})
        raise web.HTTPSeeOther(f"{BASE}/?{query}")

    async def _records(self, filters: Filters) -> tuple[list[dict[str, Any]], int | None]:
        events = await self._store.list(
            source=filters.source,
            status=filters.status,
            limit=filters.limit + 1,
            before_id=filters.before,
        )
        shown = events[: filters.limit]
        older = shown[-1].id if len(events) > filters.limit else None
        return [self._record(e) for e in shown], older

    async def _event(
        self, request: web.Request
    ) -> tuple[Event, dict[str, Any], list[dict[str, Any]]]:
        event_id = int(request.match_info["id"])
        event = await self._store.get(event_id)
        if event is None:
            raise web.HTTPNotFound(text=f"no inbox row {event_id}\n")
        attempts = await self._store.attempts_of(event_id)
        return (
            event,
            self._record(event),
            [attempt_record(a, self._redact) for a in attempts],
        )

    def _record(self, event: Event) -> dict[str, Any]:
        secret = self._secret_headers.get(event.source, ())
        return event_record(event, secret, self._redact)

    def _csrf(self, request: web.Request) -> str:
        identity = self._sessions.identify(request)
        return "" if identity is None or identity.csrf is None else identity.csrf


def _wants_json(request: web.Request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _notice(request: web.Request) -> str | None:
    template = NOTICES.get(request.query.get("notice", ""))
    if template is None:
        return None
    count = request.query.get("count", "0")
    return template.format(count=int(count) if count.isdigit() else 0)
