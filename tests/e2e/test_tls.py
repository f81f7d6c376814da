"""HTTPS served by hookgram itself, checked by a real TLS client; the certificate in setWebhook."""

from __future__ import annotations

import logging
import ssl
import subprocess
import sys
import warnings
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from hookgram.sandbox import BotAPIEmulator
from hookgram.sources.telegram import SECRET_HEADER
from tests.certs import TinyCA, other_key
from tests.conftest import TOKEN, InvokeCli, Server, StartServer
from tests.factories import body, message_update


def hookgram_cert(folder: Path, *args: str) -> dict[str, str]:
    """Run ``hookgram cert`` and return the settings it prints."""
    result = subprocess.run(
        [sys.executable, "-m", "hookgram", "cert", "--out", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pairs = [line.split("=", 1) for line in result.stdout.splitlines() if "=" in line]
    return {name: value for name, value in pairs if not name.startswith("#")}


def trusting(pem: Path | bytes) -> ssl.SSLContext:
    """A client context that trusts only ``pem`` (a self-signed certificate or a CA)."""
    context = ssl.create_default_context()
    context.load_verify_locations(cadata=pem.read_text() if isinstance(pem, Path) else pem.decode())
    return context


def tls_1_1_client() -> ssl.SSLContext:
    """A client that offers TLS 1.1 and nothing newer."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


async def post_https(server: Server, context: ssl.SSLContext) -> int:
    """POST an update over HTTPS with the right secret; the status."""
    url = f"https://127.0.0.1:{server.running.port}/webhook"
    headers = {SECRET_HEADER: server.secret, "Content-Type": "application/json"}
    async with server.http.post(
        url, data=body(message_update()), headers=headers, ssl=context
    ) as response:
        return response.status


async def start_https(start_server: StartServer, cert: str | Path, key: str | Path) -> Server:
    """A server on HTTPS whose public URL is the loopback address."""
    return await start_server(
        worker=False, public_url="https://127.0.0.1:8443", tls_cert=str(cert), tls_key=str(key)
    )


class TestSelfSigned:
    async def test_served_and_uploaded(
        self, start_server: StartServer, emulator: BotAPIEmulator, tmp_path: Path
    ) -> None:
        """A `hookgram cert` certificate is served over TLS and uploaded with setWebhook."""
        printed = hookgram_cert(tmp_path, "--host", "127.0.0.1")
        cert, key = Path(printed["HOOKGRAM_TLS_CERT"]), Path(printed["HOOKGRAM_TLS_KEY"])
        assert printed["HOOKGRAM_PUBLIC_URL"] == "https://127.0.0.1:8443"
        server = await start_https(start_server, cert, key)
        assert await post_https(server, trusting(cert)) == 200
        assert len(await server.events()) == 1
        [call] = emulator.calls_of("setWebhook")
        assert call.params["url"] == "https://127.0.0.1:8443/webhook"
        uploaded = call.upload("certificate")
        assert uploaded is not None
        assert uploaded[1] == cert.read_bytes()
        assert emulator.webhook.has_custom_certificate

    async def test_plain_http_and_untrusted_clients_get_nothing(
        self, start_server: StartServer, tmp_path: Path
    ) -> None:
        """Plain HTTP, and a client that does not trust the certificate, get no answer."""
        printed = hookgram_cert(tmp_path, "--host", "127.0.0.1")
        server = await start_https(
            start_server, printed["HOOKGRAM_TLS_CERT"], printed["HOOKGRAM_TLS_KEY"]
        )
        with pytest.raises(aiohttp.ClientError):
            await server.post(body(message_update()))
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await post_https(server, ssl.create_default_context())
        assert await server.events() == []

    async def test_tls_1_1_refused(self, start_server: StartServer, tmp_path: Path) -> None:
        """A TLS 1.1 client is refused, though it can talk to a server that allows TLS 1.1."""
        printed = hookgram_cert(tmp_path, "--host", "127.0.0.1")
        cert, key = printed["HOOKGRAM_TLS_CERT"], printed["HOOKGRAM_TLS_KEY"]
        server = await start_https(start_server, cert, key)
        with pytest.raises(aiohttp.ClientError):
            await post_https(server, tls_1_1_client())
        assert await server.events() == []
        assert await _lenient_server_status(cert, key, tls_1_1_client()) == 200


class TestWebhookSetCommand:
    @pytest.mark.parametrize("self_signed", [True, False])
    async def test_uploads_like_run(
        self,
        hookgram_cli: InvokeCli,
        emulator: BotAPIEmulator,
        tmp_path: Path,
        self_signed: bool,
    ) -> None:
        """`hookgram webhook set` uploads the certificate exactly when `run` would."""
        if self_signed:
            printed = hookgram_cert(tmp_path, "--host", "bot.example.com")
            cert, key = printed["HOOKGRAM_TLS_CERT"], printed["HOOKGRAM_TLS_KEY"]
        else:
            pair = TinyCA().issue(tmp_path, "bot.example.com")
            cert, key = str(pair.cert), str(pair.key)
        result = await hookgram_cli("webhook", "set", HOOKGRAM_TLS_CERT=cert, HOOKGRAM_TLS_KEY=key)
        assert result.code == 0, result.stdout
        [call] = emulator.calls_of("setWebhook")
        uploaded = call.upload("certificate")
        if self_signed:
            assert uploaded is not None
            assert uploaded[1] == Path(cert).read_bytes()
        else:
            assert uploaded is None


class TestCAIssued:
    async def test_served_but_not_uploaded(
        self, start_server: StartServer, emulator: BotAPIEmulator, tmp_path: Path
    ) -> None:
        """A CA-issued certificate is served, and never uploaded (that would break delivery)."""
        ca = TinyCA()
        pair = ca.issue(tmp_path, "127.0.0.1")
        server = await start_https(start_server, pair.cert, pair.key)
        assert await post_https(server, trusting(ca.pem)) == 200
        [call] = emulator.calls_of("setWebhook")
        assert call.upload("certificate") is None
        assert not emulator.webhook.has_custom_certificate


class TestStartupChecks:
    async def test_warnings_for_names_and_expiry(
        self, start_server: StartServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Names that miss the public URL's host and a near expiry are start-up warnings."""
        printed = hookgram_cert(tmp_path, "--host", "other.example.com", "--days", "7")
        with caplog.at_level(logging.WARNING, logger="hookgram.service"):
            await start_server(
                worker=False,
                tls_cert=printed["HOOKGRAM_TLS_CERT"],
                tls_key=printed["HOOKGRAM_TLS_KEY"],
            )
        messages = [r.getMessage() for r in caplog.records if r.name == "hookgram.service"]
        assert any("not for bot.example.com" in m for m in messages), messages
        assert any("expires on" in m for m in messages), messages

    @pytest.mark.parametrize("fault", ["mismatch", "missing key", "key only"])
    def test_bad_files_stop_start_up(self, tmp_path: Path, fault: str) -> None:
        """Unmatched or unreadable files stop `hookgram run` with one line naming the file."""
        printed = hookgram_cert(tmp_path, "--host", "bot.example.com")
        env = {
            "PATH": "/usr/bin:/bin",
            "BOT_TOKEN": TOKEN,
            "HOOKGRAM_PUBLIC_URL": "https://bot.example.com",
            "HOOKGRAM_TLS_CERT": printed["HOOKGRAM_TLS_CERT"],
            "HOOKGRAM_TLS_KEY": printed["HOOKGRAM_TLS_KEY"],
        }
        if fault == "mismatch":
            env["HOOKGRAM_TLS_KEY"] = expected = str(other_key(tmp_path))
        elif fault == "missing key":
            env["HOOKGRAM_TLS_KEY"] = expected = str(tmp_path / "gone.pem")
        else:
            del env["HOOKGRAM_TLS_CERT"]
            expected = "HOOKGRAM_TLS_CERT"
        result = subprocess.run(
            [sys.executable, "-m", "hookgram", "run"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert expected in line
        assert "Traceback" not in result.stderr


async def _lenient_server_status(cert: str, key: str, client: ssl.SSLContext) -> int:
    """The status a server that still allows TLS 1.1 gives ``client`` (the control case)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/", _ok)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"https://127.0.0.1:{port}/", ssl=client) as response,
        ):
            return response.status
    finally:
        await runner.cleanup()


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")
