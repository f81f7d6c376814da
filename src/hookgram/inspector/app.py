"""The inspector as an aiohttp sub-application mounted at ``/inspector``, and its login form."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from aiohttp import web

from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.store import InboxStore
from hookgram.inbox.views import Redact
from hookgram.inspector.access import (
    Sessions,
    clear_session_cookie,
    guard,
    login_refused,
    security_headers,
    set_session_cookie,
)
from hookgram.inspector.pages import Pages
from hookgram.inspector.rendering import BASE, Templates

STATIC = Path(__file__).parent / "static"


def mount_inspector(
    app: web.Application,
    *,
    store: InboxStore,
    counts: InboxCounts,
    token: str,
    redact: Redact,
    secret_headers: Mapping[str, Iterable[str]] | None = None,
    on_requeue: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> None:
    """Serve the inspector under ``/inspector`` of ``app``, reachable only with ``token``.

    ``secret_headers`` names, per source, the headers its scheme treats as credentials.
    """
    templates = Templates()
    sessions = Sessions(token, clock=clock)
    pages = Pages(
        store,
        counts,
        templates,
        sessions,
        redact=redact,
        secret_headers=secret_headers or {},
        on_requeue=on_requeue,
        clock=clock,
    )
    login = Login(sessions, templates)
    inspector = web.Application(middlewares=[guard(sessions, login.unauthorized)])
    inspector.on_response_prepare.append(security_headers)
    routes = inspector.router
    routes.add_get("/", pages.index, name="list")
    routes.add_get("/rows", pages.rows, name="rows")
    routes.add_get(r"/events/{id:\d{1,18}}", pages.event, name="event")
    routes.add_get(r"/events/{id:\d{1,18}}/live", pages.event_live, name="event_live")
    routes.add_post(r"/events/{id:\d{1,18}}/replay", pages.replay, name="replay")
    routes.add_post("/retry-dead", pages.retry_dead, name="retry_dead")
    routes.add_get("/login", login.form, name="login_form")
    routes.add_post("/login", login.submit, name="login")
    routes.add_post("/logout", login.logout, name="logout")
    routes.add_static("/static", STATIC, name="static")
    app.router.add_get(BASE, _to_index)
    app.add_subapp(BASE, inspector)


async def _to_index(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(BASE + "/")


class Login:
    """The login form: the right token sets a session cookie (never the token itself)."""

    def __init__(self, sessions: Sessions, templates: Templates) -> None:
        self._sessions = sessions
        self._templates = templates

    async def unauthorized(self, request: web.Request) -> web.StreamResponse:
        """401 with the login form and nothing else."""
        target = request.path_qs if request.method == "GET" else ""
        return self._page(status=401, message=None, target=target)

    async def form(self, request: web.Request) -> web.StreamResponse:
        """The login form."""
        return self._page(status=200, message=None, target=request.query.get("next", ""))

    async def submit(self, request: web.Request) -> web.StreamResponse:
        """Check the typed token; on success set the session cookie and go where asked."""
        form = await request.post()
        token, target = form.get("token"), form.get("next")
        target = target if isinstance(target, str) else ""
        if not self._sessions.token_matches(token if isinstance(token, str) else None):
            login_refused(request)
            return self._page(status=401, message="That is not the inspector token.", target=target)
        response = web.Response(status=303, headers={"Location": _local(target)})
        set_session_cookie(response, request, self._sessions.issue())
        return response

    async def logout(self, _request: web.Request) -> web.StreamResponse:
        """Forget the session cookie."""
        response = web.Response(status=303, headers={"Location": BASE + "/login"})
        clear_session_cookie(response)
        return response

    def _page(self, *, status: int, message: str | None, target: str) -> web.Response:
        response = self._templates.render(
            "login.html", status=status, message=message, next=_local(target)
        )
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="hookgram inspector"'
        return response


def _local(target: str) -> str:
    """``target`` when it is a page of the inspector, else the inspector's front page."""
    if target.startswith(BASE + "/") and not target.startswith(BASE + "/login"):
        return target if "//" not in target and "\\" not in target else BASE + "/"
    return BASE + "/"
