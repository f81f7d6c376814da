"""Inspector sessions without HTTP: signing, expiry, CSRF tokens, safe redirects."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request

from hookgram.inspector.access import COOKIE, SESSION_SECONDS, Sessions
from hookgram.inspector.app import _local

TOKEN = "inspector-token-0123456789abcdef"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def _with_cookie(value: str) -> object:
    return make_mocked_request("GET", "/inspector/", headers={"Cookie": f"{COOKIE}={value}"})


class TestSessions:
    def test_session_expires(self) -> None:
        """A session value stops working after SESSION_SECONDS."""
        clock = Clock()
        sessions = Sessions(TOKEN, clock=clock)
        value = sessions.issue()
        assert sessions.identify(_with_cookie(value)) is not None  # type: ignore[arg-type]
        clock.now += SESSION_SECONDS + 1
        assert sessions.identify(_with_cookie(value)) is None  # type: ignore[arg-type]

    def test_new_token_ends_every_session(self) -> None:
        """Sessions are signed with the token: changing the token logs everyone out."""
        value = Sessions(TOKEN).issue()
        assert Sessions(TOKEN + "-rotated").identify(_with_cookie(value)) is None  # type: ignore[arg-type]

    def test_csrf_differs_per_session(self) -> None:
        """Each session has its own CSRF token."""
        sessions = Sessions(TOKEN)
        first = sessions.identify(_with_cookie(sessions.issue()))  # type: ignore[arg-type]
        second = sessions.identify(_with_cookie(sessions.issue()))  # type: ignore[arg-type]
        assert first is not None
        assert second is not None
        assert first.csrf != second.csrf


class TestRedirects:
    def test_only_inspector_pages(self) -> None:
        """After login only a page of the inspector is a target, never another site."""
        assert _local("/inspector/events/3") == "/inspector/events/3"
        for target in ("https://evil.example/", "//evil.example/", "/inspector/..//x", "/other"):
            assert _local(target) == "/inspector/"
