"""The inspector over real HTTP: who gets in, what the pages show and hide, replay and retry."""

from __future__ import annotations

import datetime
import logging
import re
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hookgram.inbox.counts import InboxCounts
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import NewEvent, Status
from hookgram.inbox.store import InboxStore
from hookgram.inspector import mount_inspector
from hookgram.redaction import Redactor
from hookgram.sandbox import BotAPIEmulator
from tests.conftest import TOKEN, Server, StartServer, WorkerFor
from tests.factories import body, message_update

INSPECTOR_TOKEN = "inspector-token-0123456789abcdef"
METRICS_TOKEN = "metrics-token-0123456789"
SHOP_SECRET = "shop-secret-value-42"
SHOP_SOURCE = {
    "name": "shop",
    "verify": "token",
    "header": "X-Shop-Token",
    "secret": SHOP_SECRET,
    "notify": [42],
}
CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class Visitor:
    """An HTTP client with its own cookie jar, as one browser or script."""

    server: Server
    http: aiohttp.ClientSession

    def url(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.server.base + path

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        """GET; the status and the text."""
        async with self.http.get(self.url(path), allow_redirects=False, **kwargs) as response:
            return response.status, await response.text()

    async def post(self, path: str, data: dict[str, str], **kwargs: Any) -> aiohttp.ClientResponse:
        """POST a form; the response (its body already read)."""
        async with self.http.post(
            self.url(path), data=data, allow_redirects=False, **kwargs
        ) as response:
            await response.read()
            return response

    async def log_in(self, token: str = INSPECTOR_TOKEN) -> aiohttp.ClientResponse:
        """Submit the login form."""
        return await self.post("/inspector/login", {"token": token, "next": "/inspector/"})

    async def csrf(self) -> str:
        """The CSRF token the list page puts in its forms."""
        status, html = await self.get("/inspector/")
        assert status == 200
        match = CSRF.search(html)
        assert match is not None
        assert match.group(1)
        return match.group(1)


@pytest.fixture
async def visitors() -> AsyncIterator[list[aiohttp.ClientSession]]:
    """Client sessions closed after the test."""
    sessions: list[aiohttp.ClientSession] = []
    yield sessions
    for session in sessions:
        await session.close()


@pytest.fixture
async def inspected(start_server: StartServer) -> Server:
    """A receiver-only server with the inspector, a metrics token and a token-checked source."""
    return await start_server(
        worker=False,
        inspector_token=INSPECTOR_TOKEN,
        metrics_token=METRICS_TOKEN,
        sources=[SHOP_SOURCE],
    )


@pytest.fixture
async def tls_inspector(tmp_path: Path) -> AsyncIterator[str]:
    """The inspector alone, served over https with a self-signed certificate; its base URL."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*_self_signed(tmp_path))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'tls.db'}")
    store = InboxStore(engine)
    await store.create_schema()
    app = web.Application()
    mount_inspector(
        app, store=store, counts=InboxCounts(store), token=INSPECTOR_TOKEN, redact=Redactor([])
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}"
    await runner.cleanup()
    await engine.dispose()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def visitor(server: Server, visitors: list[aiohttp.ClientSession]) -> Visitor:
    """A fresh client (cookies accepted from 127.0.0.1) for ``server``."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    visitors.append(session)
    return Visitor(server, session)


async def _processed_update(server: Server, worker_for: WorkerFor, text: str) -> int:
    status, _ = await server.post(body(message_update(text)))
    assert status == 200
    await (await worker_for(server)).run_until_empty()
    events = await server.events()
    return events[-1].id


class TestAccess:
    async def test_no_token_is_401_with_nothing_rendered(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """Without the token every page answers 401 with the login form and no inbox data."""
        await inspected.post(body(message_update("private words")))
        guest = visitor(inspected, visitors)
        for path in ("/inspector/", "/inspector/rows", "/inspector/events/1"):
            status, html = await guest.get(path)
            assert status == 401
            assert "private words" not in html
            assert 'name="token"' in html

    async def test_wrong_bearer_token_is_401(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A wrong bearer token gets 401; the right one gets the page."""
        guest = visitor(inspected, visitors)
        wrong = {"Authorization": "Bearer not-the-token-at-all"}
        assert (await guest.get("/inspector/", headers=wrong))[0] == 401
        right = {"Authorization": f"Bearer {INSPECTOR_TOKEN}"}
        assert (await guest.get("/inspector/", headers=right))[0] == 200

    async def test_token_in_query_is_refused_and_not_logged(
        self,
        inspected: Server,
        visitors: list[aiohttp.ClientSession],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A token in the query string is refused, even with a valid header, and never logged."""
        caplog.set_level(logging.DEBUG)
        guest = visitor(inspected, visitors)
        right = {"Authorization": f"Bearer {INSPECTOR_TOKEN}"}
        for query in (f"?token={INSPECTOR_TOKEN}", f"?source={INSPECTOR_TOKEN}", "?access_token=x"):
            status, text = await guest.get("/inspector/" + query, headers=right)
            assert status == 400
            assert "never reads its token from the URL" in text
        assert INSPECTOR_TOKEN not in caplog.text

    async def test_wrong_login_is_401(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A wrong token at the login form sets no cookie and shows the form again."""
        guest = visitor(inspected, visitors)
        response = await guest.log_in("wrong-token-wrong-token")
        assert response.status == 401
        assert "hookgram_inspector" not in response.cookies
        assert (await guest.get("/inspector/"))[0] == 401

    async def test_login_sets_a_strict_http_only_session_cookie(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """The login form sets an HttpOnly, SameSite=Strict cookie that is not the token."""
        guest = visitor(inspected, visitors)
        response = await guest.log_in()
        assert response.status == 303
        assert response.headers["Location"] == "/inspector/"
        cookie = response.cookies["hookgram_inspector"]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Strict"
        assert not cookie["secure"]  # plain http here; see TestHttps
        assert INSPECTOR_TOKEN not in cookie.value
        assert (await guest.get("/inspector/"))[0] == 200

    async def test_tampered_cookie_is_401(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A session value changed by hand, or made up, does not let anyone in."""
        guest = visitor(inspected, visitors)
        value = (await guest.log_in()).cookies["hookgram_inspector"].value
        session, expiry, signature = value.split(".")
        for forged in (
            f"{session}.{int(expiry) + 999999}.{signature}",
            f"x{session}.{expiry}.{signature}",
            INSPECTOR_TOKEN,
        ):
            stranger = visitor(inspected, visitors)
            headers = {"Cookie": f"hookgram_inspector={forged}"}
            assert (await stranger.get("/inspector/", headers=headers))[0] == 401

    async def test_logout_ends_the_session(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """Logging out removes the cookie: the next page is a 401."""
        guest = visitor(inspected, visitors)
        await guest.log_in()
        response = await guest.post("/inspector/logout", {"csrf": await guest.csrf()})
        assert response.status == 303
        assert (await guest.get("/inspector/"))[0] == 401

    async def test_off_without_its_token(
        self, start_server: StartServer, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """Without HOOKGRAM_INSPECTOR_TOKEN there is no inspector at all."""
        server = await start_server(worker=False)
        guest = visitor(server, visitors)
        headers = {"Authorization": f"Bearer {INSPECTOR_TOKEN}"}
        assert (await guest.get("/inspector/", headers=headers))[0] == 404
        assert (await guest.get("/inspector/login"))[0] == 404


class TestCsrf:
    async def _replayable(
        self, server: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> tuple[Visitor, int]:
        event_id = await _processed_update(server, worker_for, "replay me")
        guest = visitor(server, visitors)
        await guest.log_in()
        return guest, event_id

    async def test_post_without_the_token_is_refused(
        self, inspected: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A form post with no CSRF token, or a wrong one, is a 403 and changes nothing."""
        guest, event_id = await self._replayable(inspected, worker_for, visitors)
        for data in ({}, {"csrf": "0" * 64}):
            response = await guest.post(f"/inspector/events/{event_id}/replay", data)
            assert response.status == 403
        assert (await inspected.running.store.get(event_id)).status is Status.DONE

    async def test_another_sessions_token_is_refused(
        self, inspected: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """The CSRF token belongs to its session: another session's token is refused."""
        guest, event_id = await self._replayable(inspected, worker_for, visitors)
        other = visitor(inspected, visitors)
        await other.log_in()
        response = await guest.post(
            f"/inspector/events/{event_id}/replay", {"csrf": await other.csrf()}
        )
        assert response.status == 403

    async def test_post_from_another_origin_is_refused(
        self, inspected: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A post with the right token but another site's Origin is a 403."""
        guest, event_id = await self._replayable(inspected, worker_for, visitors)
        token = await guest.csrf()
        for origin in ("https://evil.example", "null"):
            response = await guest.post(
                f"/inspector/events/{event_id}/replay", {"csrf": token}, headers={"Origin": origin}
            )
            assert response.status == 403
        assert (await inspected.running.store.get(event_id)).status is Status.DONE

    async def test_same_origin_post_with_the_token_replays(
        self, inspected: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """The page's own form (same Origin, right token) queues the row again."""
        guest, event_id = await self._replayable(inspected, worker_for, visitors)
        origin = {"Origin": inspected.base}
        response = await guest.post(
            f"/inspector/events/{event_id}/replay", {"csrf": await guest.csrf()}, headers=origin
        )
        assert response.status == 303
        assert (await inspected.running.store.get(event_id)).status is Status.PENDING

    async def test_scripts_post_with_the_bearer_token(
        self, inspected: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A script's bearer header cannot be forged cross-site, so it needs no CSRF token."""
        event_id = await _processed_update(inspected, worker_for, "script replay")
        script = visitor(inspected, visitors)
        headers = {"Authorization": f"Bearer {INSPECTOR_TOKEN}"}
        response = await script.post(f"/inspector/events/{event_id}/replay", {}, headers=headers)
        assert response.status == 303


class TestActions:
    async def test_replay_runs_the_handler_again(
        self,
        inspected: Server,
        worker_for: WorkerFor,
        emulator: BotAPIEmulator,
        visitors: list[aiohttp.ClientSession],
    ) -> None:
        """Replay makes the worker handle the row again: a second attempt and a second reply."""
        event_id = await _processed_update(inspected, worker_for, "again please")
        guest = visitor(inspected, visitors)
        await guest.log_in()
        response = await guest.post(
            f"/inspector/events/{event_id}/replay", {"csrf": await guest.csrf()}
        )
        assert response.headers["Location"] == f"/inspector/events/{event_id}?notice=replayed"
        await (await worker_for(inspected)).run_until_empty()
        headers = {"Accept": "application/json"}
        async with guest.http.get(guest.url(f"/inspector/events/{event_id}"), headers=headers) as r:
            shown = await r.json()
        assert shown["status"] == "done"
        assert [a["outcome"] for a in shown["attempts"]] == ["done", "done"]
        assert [c.params["text"] for c in emulator.calls_of("sendMessage")] == ["again please"] * 2

    async def test_retry_dead_rows_of_a_source(
        self,
        inspected: Server,
        worker_for: WorkerFor,
        emulator: BotAPIEmulator,
        visitors: list[aiohttp.ClientSession],
    ) -> None:
        """Retry dead queues every dead row of the source; the notice says how many."""
        emulator.block_chat(42)
        for text in ("one", "two"):
            await inspected.post(body(message_update(text, chat_id=42)))
        worker = await worker_for(inspected)
        await worker.run_until_empty()
        assert {e.status for e in await inspected.events()} == {Status.DEAD}
        guest = visitor(inspected, visitors)
        await guest.log_in()
        response = await guest.post(
            "/inspector/retry-dead", {"csrf": await guest.csrf(), "source": "telegram"}
        )
        assert response.status == 303
        _status, html = await guest.get(response.headers["Location"])
        assert "Dead rows queued for another try: 2." in html
        assert {e.status for e in await inspected.events()} == {Status.PENDING}
        await worker.run_until_empty()
        assert len(emulator.calls_of("sendMessage")) == 4

    async def test_list_filters_and_pages(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """The list filters by source and status and pages back through older rows."""
        for n in range(5):
            await inspected.post(body(message_update(f"message {n}")))
        await _billing_event(inspected)
        guest = visitor(inspected, visitors)
        await guest.log_in()
        _, html = await guest.get("/inspector/?source=telegram&limit=2")
        assert re.findall(r"message \d", html) == ["message 4", "message 3"]
        older = re.search(r'rel="next" href="([^"]+)"', html)
        assert older is not None
        _, html = await guest.get(older.group(1).replace("&amp;", "&"))
        assert re.findall(r"message \d", html) == ["message 2", "message 1"]
        _, html = await guest.get("/inspector/rows?source=billing")
        assert "invoice.paid evt_1" in html
        assert "message" not in html
        _, html = await guest.get("/inspector/rows?status=dead")
        assert "No events match these filters." in html

    async def test_bad_filter_is_400(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """An unknown status or a malformed page number is a 400 that says what is expected."""
        guest = visitor(inspected, visitors)
        await guest.log_in()
        status, text = await guest.get("/inspector/?status=lost")
        assert status == 400
        assert "status must be one of pending, processing, done, failed, dead" in text
        assert (await guest.get("/inspector/?before=abc"))[0] == 400
        assert (await guest.get("/inspector/events/999"))[0] == 404


async def _billing_event(server: Server) -> int:
    """Store a row of a source this server does not serve, a credential among its headers."""
    await server.running.store.put_many(
        [
            NewEvent(
                source="billing",
                dedup_key="evt_1",
                body=b'{"type": "invoice.paid", "id": "evt_1", "amount": 500}',
                headers={
                    "Content-Type": "application/json",
                    "X-Shop-Token": SHOP_SECRET,
                    "Webhook-Signature": f"v1,{SHOP_SECRET}",
                },
            )
        ],
        now=time.time(),
    )
    return (await server.running.store.list(source="billing"))[0].id


class TestWhatPagesShow:
    async def test_row_page_shows_headers_body_and_attempts(
        self, inspected: Server, worker_for: WorkerFor, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """One row shows its redacted headers, pretty body, attempts and last error."""
        shop_id = await _billing_event(inspected)
        await (await worker_for(inspected)).run_until_empty()
        guest = visitor(inspected, visitors)
        await guest.log_in()
        _, html = await guest.get(f"/inspector/events/{shop_id}")
        assert '<th scope="row">X-Shop-Token</th><td><code>[redacted]</code>' in html
        assert "application/json" in html
        assert "&#34;type&#34;: &#34;invoice.paid&#34;," in html  # indented JSON, escaped
        assert "no handler is configured for source &#39;billing&#39;" in html
        assert html.count('class="attempt"') == 1

    async def test_message_markup_is_shown_as_text(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """A message text with a script tag is escaped on every page, never markup."""
        attack = "<script>alert('x')</script><img src=x onerror=alert(1)>"
        await inspected.post(body(message_update(attack)))
        [event] = await inspected.events()
        guest = visitor(inspected, visitors)
        await guest.log_in()
        for path in ("/inspector/", "/inspector/rows", f"/inspector/events/{event.id}"):
            _, html = await guest.get(path)
            assert "<script>alert" not in html
            assert "<img src=x" not in html
            assert "&lt;script&gt;alert(" in html

    async def test_pages_forbid_inline_script_and_framing(
        self, inspected: Server, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """Every inspector answer carries a strict Content-Security-Policy and no-store."""
        guest = visitor(inspected, visitors)
        async with guest.http.get(guest.url("/inspector/")) as response:
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self'" in policy
            assert "frame-ancestors 'none'" in policy
            assert response.headers["Cache-Control"] == "no-store"

    async def test_secrets_are_on_no_page_and_not_in_metrics(
        self,
        inspected: Server,
        worker_for: WorkerFor,
        visitors: list[aiohttp.ClientSession],
    ) -> None:
        """Bot token, webhook secret, inspector and metrics tokens and source secrets never show."""
        await inspected.post(body(message_update(f"leaked {TOKEN} and {inspected.secret}")))
        await _billing_event(inspected)
        status, _ = await inspected.post(
            b'{"type": "order.created", "id": "ord_7"}',
            secret=None,
            path="/hooks/shop",
            headers={"X-Shop-Token": SHOP_SECRET},
        )
        assert status == 200
        await (await worker_for(inspected)).run_until_empty()
        secrets = [TOKEN, inspected.secret, INSPECTOR_TOKEN, METRICS_TOKEN, SHOP_SECRET]
        guest = visitor(inspected, visitors)
        pages = [await guest.get("/inspector/"), await guest.get("/inspector/login")]
        await guest.log_in()
        paths = ["/inspector/", "/inspector/rows", "/inspector/?status=dead"]
        paths += [f"/inspector/events/{e.id}" for e in await inspected.events()]
        paths += [f"/inspector/events/{e.id}/live" for e in await inspected.events()]
        paths += ["/inspector/static/inspector.js", "/inspector/static/inspector.css"]
        pages += [await guest.get(path) for path in paths]
        json = {"Accept": "application/json"}
        pages += [await guest.get(path, headers=json) for path in paths[3:5]]
        metrics = {"Authorization": f"Bearer {METRICS_TOKEN}"}
        pages += [await guest.get("/metrics", headers=metrics)]
        assert all(status == 200 for status, _ in pages[2:])
        for _, text in pages:
            for secret in secrets:
                assert secret not in text
        assert "leaked *** and ***" in pages[5][1]


class TestHttps:
    async def test_cookie_is_secure_over_https(
        self, tls_inspector: str, visitors: list[aiohttp.ClientSession]
    ) -> None:
        """Served over https, the session cookie is also marked Secure."""
        session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(ssl=False),
        )
        visitors.append(session)
        async with session.post(
            tls_inspector + "/inspector/login",
            data={"token": INSPECTOR_TOKEN},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            cookie = response.cookies["hookgram_inspector"]
        assert cookie["secure"]
        assert cookie["httponly"]
