"""HTTP ingress: route → checks → inbox commit → 200. Knows nothing of handlers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from hookgram.errors import StoreUnavailableError
from hookgram.inbox.models import NewEvent
from hookgram.security import AllowList, ForwardingError, client_address
from hookgram.sources.base import Rejected, Request, Source

log = logging.getLogger(__name__)

Commit = Callable[[NewEvent], Awaitable[None]]
# (source name, HTTP status answered, seconds taken): called once per request, synchronously.
Observe = Callable[[str, int, float], None]

# Refusals after which the rest of the request is not read: the connection is closed instead.
_CLOSE_AFTER = frozenset({408, 413})
# Client addresses remembered per TCP peer that is not a trusted proxy (its headers never
# matter, so the peer alone decides); a server sees few distinct peers.
_REMEMBERED_PEERS = 4096


def build_app(
    sources: Sequence[Source],
    commit: Commit,
    *,
    max_body_bytes: int,
    trusted_proxies: AllowList,
    client_timeout: float,
    observe: Observe | None = None,
) -> web.Application:
    """An aiohttp application serving every source's path with POST only."""
    app = web.Application(client_max_size=max_body_bytes)
    limits = _Limits(max_body_bytes, client_timeout, trusted_proxies)
    for source in sources:
        app.router.add_post(source.path, _receiver(source, commit, limits, observe))
    return app


@dataclass(frozen=True, slots=True)
class _Limits:
    max_body_bytes: int
    client_timeout: float
    proxies: AllowList
    direct_peers: dict[str, str | None] = field(default_factory=dict)


def _receiver(
    source: Source, commit: Commit, limits: _Limits, observe: Observe | None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def receive(request: web.Request) -> web.StreamResponse:
        # One coroutine per request: every acknowledgement takes this path.
        started = time.perf_counter()
        try:
            client = _client(request, limits)
            body = await _read_body(request, limits.max_body_bytes, limits.client_timeout)
        except Rejected as exc:
            # Sources log their own refusals; these happen before a source sees the request.
            log.warning(
                "%s refused a request from %s: %d %s",
                source.name,
                request.remote,
                exc.status,
                exc.message,
            )
            response = _refusal(exc)
        else:
            try:
                event = source.accept(
                    Request(
                        body=body,
                        headers=request.headers,
                        client=client,
                        content_type=request.content_type,
                    )
                )
                await commit(event)
            except Rejected as exc:
                response = _refusal(exc)
            except StoreUnavailableError:
                response = web.Response(status=503, text="inbox unavailable, try again later\n")
            else:
                response = web.Response(status=200, text="{}", content_type="application/json")
        if observe is not None:
            observe(source.name, response.status, time.perf_counter() - started)
        return response

    receive.__name__ = f"receive_{source.name}"
    return receive


def _client(request: web.Request, limits: _Limits) -> str | None:
    """The client address, read through trusted proxies; Rejected(403) for a bad header."""
    peer = request.remote
    if peer is not None and peer in limits.direct_peers:
        return limits.direct_peers[peer]
    try:
        address = client_address(peer, request.headers, limits.proxies)
    except ForwardingError as exc:
        raise Rejected(403, f"malformed forwarding header: {exc}") from None
    client = None if address is None else str(address)
    if peer is not None and not limits.proxies.allows(peer):
        if len(limits.direct_peers) >= _REMEMBERED_PEERS:
            limits.direct_peers.clear()
        limits.direct_peers[peer] = client
    return client


def _refusal(exc: Rejected) -> web.Response:
    response = web.Response(status=exc.status, text=exc.message + "\n")
    if exc.status in _CLOSE_AFTER:
        response.force_close()
    return response


async def _read_body(request: web.Request, limit: int, timeout: float) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    if request.content.is_eof():
        # A small body usually arrives with the headers: it is all buffered already, so there
        # is nothing to wait for (and no timeout to arm).
        body = request.content.read_nowait()
        if len(body) > limit:
            raise _too_large(limit)
        return body
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.content.iter_any():
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
    except TimeoutError:
        raise Rejected(408, f"body not received within {timeout:g} seconds") from None
    return b"".join(chunks)


def _too_large(limit: int) -> Rejected:
    """The refusal of a body over ``limit`` bytes, however its size came to light."""
    return Rejected(413, f"body larger than {limit} bytes")
