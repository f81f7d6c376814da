"""Who may see the inspector: the token as a bearer header (scripts) or a signed session cookie
from the login form (people); CSRF and Origin checks on every form a session posts.

Sessions are stateless: the cookie holds a random id and an expiry, signed with a key derived
from the inspector token, so restarts and replicas agree and a new token ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from hookgram.security import bearer_token, same_secret

log = logging.getLogger(__name__)

COOKIE = "hookgram_inspector"
SESSION_SECONDS = 12 * 3600
CSRF_FIELD = "csrf"
# Routes anyone may reach: the login form and the static files (no data in either).
PUBLIC_ROUTES = frozenset({"login", "login_form", "static"})
# Query parameters that look like an attempt to pass the token in the URL.
QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "inspector_token", "bearer", "auth"})
QUERY_REFUSAL = (
    "the inspector never reads its token from the URL (URLs end up in logs and browser "
    "history): send Authorization: Bearer, or log in at /inspector/login\n"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Identity:
    """A request the token vouches for; ``csrf`` is set for browser sessions only."""

    csrf: str | None


class Sessions:
    """Checks the token and issues and verifies signed session values and their CSRF tokens."""

    def __init__(self, token: str, *, clock: Callable[[], float] = time.time) -> None:
        self._token = token
        self._key = hmac.new(token.encode(), b"hookgram-inspector-session", hashlib.sha256).digest()
        self._clock = clock

    def token_matches(self, given: str | None) -> bool:
        """True when ``given`` is the inspector token (constant time)."""
        return same_secret(given, self._token)

    def in_query(self, request: web.Request) -> bool:
        """True when the query string carries the token, or a parameter named like one."""
        return any(
            key.lower() in QUERY_TOKEN_NAMES or self.token_matches(value)
            for key, value in request.query.items()
        )

    def issue(self) -> str:
        """A new session value: ``id.expiry.signature``."""
        payload = f"{secrets.token_urlsafe(16)}.{int(self._clock()) + SESSION_SECONDS}"
        return f"{payload}.{self._sign(payload)}"

    def identify(self, request: web.Request) -> Identity | None:
        """Who the request is: a bearer script, a browser session, or nobody (None)."""
        if "Authorization" in request.headers:
            return Identity(None) if self.token_matches(bearer_token(request.headers)) else None
        session = self._session_id(request.cookies.get(COOKIE))
        return None if session is None else Identity(self._sign("csrf:" + session))

    def _session_id(self, value: str | None) -> str | None:
        session, _, rest = (value or "").partition(".")
        expiry, _, signature = rest.partition(".")
        if not (session and expiry.isdigit() and signature):
            return None
        if not same_secret(signature, self._sign(f"{session}.{expiry}")):
            return None
        return session if int(expiry) > self._clock() else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def guard(sessions: Sessions, unauthorized: Handler) -> Middleware:
    """Middleware: refuse a token in the URL, let only the token's holders past, check forms."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if sessions.in_query(request):
            return web.Response(status=400, text=QUERY_REFUSAL)
        if request.method == "POST" and not same_origin(request):
            return web.Response(status=403, text="cross-origin form posts are refused\n")
        if request.match_info.route.name in PUBLIC_ROUTES:
            return await handler(request)
        identity = sessions.identify(request)
        if identity is None:
            return await unauthorized(request)
        if request.method == "POST" and identity.csrf is not None:
            form = await request.post()
            given = form.get(CSRF_FIELD)
            if not same_secret(given if isinstance(given, str) else None, identity.csrf):
                return web.Response(
                    status=403, text="missing or wrong CSRF token: reload the page and try again\n"
                )
        return await handler(request)

    return middleware


def same_origin(request: web.Request) -> bool:
    """False when the request says it comes from another site (``Origin``, if sent)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or an old one: the CSRF token still has to match
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" and the like
    if request.secure and parts.scheme != "https":
        return False
    return parts.netloc.lower() == request.host.lower()


def set_session_cookie(response: web.StreamResponse, request: web.Request, value: str) -> None:
    """HttpOnly, SameSite=Strict, limited to /inspector; Secure when served over https."""
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_SECONDS,
        path="/inspector",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Make the browser forget its session."""
    response.del_cookie(COOKIE, path="/inspector")


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """No inline script, no framing, no caching, no referrer to other sites: on every answer."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # Not "no-referrer": with it browsers send "Origin: null" on the pages' own form posts.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"


def login_refused(request: web.Request) -> None:
    """Log a wrong token at the login form (the address, never what was typed)."""
    log.warning("inspector login refused from %s: wrong token", request.remote)
