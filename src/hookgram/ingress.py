"""HTTP ingress: route → checks → inbox commit → 200. Knows nothing of handlers."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from hookgram.errors import StoreUnavailableError
from hookgram.inbox.models import NewEvent
from hookgram.sources.base import Rejected, Request, Source

log = logging.getLogger(__name__)

Commit = Callable[[NewEvent], Awaitable[None]]
# (source name, HTTP status answered, seconds taken): called once per request, synchronously.
Observe = Callable[[str, int, float], None]


def build_app(
    sources: Sequence[Source],
    commit: Commit,
    *,
    max_body_bytes: int,
    observe: Observe | None = None,
) -> web.Application:
    """An aiohttp application serving every source's path with POST only."""
    app = web.Application(client_max_size=max_body_bytes)
    for source in sources:
        app.router.add_post(source.path, _receiver(source, commit, max_body_bytes, observe))
    return app


def _receiver(
    source: Source, commit: Commit, max_body_bytes: int, observe: Observe | None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def receive(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        response = await answer(request)
        if observe is not None:
            observe(source.name, response.status, time.perf_counter() - started)
        return response

    async def answer(request: web.Request) -> web.Response:
        try:
            body = await _read_body(request, max_body_bytes)
            event = source.accept(
                Request(
                    body=body,
                    headers=request.headers,
                    client=request.remote,
                    content_type=request.content_type,
                )
            )
        except Rejected as exc:
            return web.Response(status=exc.status, text=exc.message + "\n")
        try:
            await commit(event)
        except StoreUnavailableError:
            return web.Response(status=503, text="inbox unavailable, try again later\n")
        return web.Response(status=200, text="{}", content_type="application/json")

    receive.__name__ = f"receive_{source.name}"
    return receive


async def _read_body(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise Rejected(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise Rejected(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
