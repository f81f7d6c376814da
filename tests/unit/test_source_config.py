"""``[[sources]]`` tables: defaults, secrets from the environment, and clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hookgram.config import load_settings
from hookgram.errors import ConfigError

TOKEN_SOURCE = {
    "name": "shop",
    "verify": "token",
    "header": "X-Token",
    "secret": "env:SHOP_TOKEN",
    "notify": [1],
}


def table(**keys: Any) -> dict[str, Any]:
    """A valid source table with ``keys`` changed."""
    return {"name": "shop", "verify": "none", "notify": [1], **keys}


class TestDefaults:
    def test_toml_tables(self, tmp_path: Path) -> None:
        """[[sources]] tables in the TOML file become Settings.sources, path defaulted."""
        toml = tmp_path / "hookgram.toml"
        toml.write_text(
            '[[sources]]\nname = "shop"\nverify = "standard-webhooks"\n'
            'secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"\ndedup = "header:webhook-id"\n'
            'notify = [5]\n\n[[sources]]\nname = "pay"\npath = "/pay"\nverify = "yookassa"\n'
            'handler = "pkg.mod:fn"\n'
        )
        shop, pay = load_settings(toml).sources
        assert (shop.name, shop.path, shop.dedup, shop.notify) == (
            "shop",
            "/hooks/shop",
            "header:webhook-id",
            [5],
        )
        assert (pay.path, pay.verify, pay.handler) == ("/pay", "yookassa", "pkg.mod:fn")

    def test_secret_from_the_environment(self) -> None:
        """``env:NAME`` is replaced by the variable's value, which the redactor then masks."""
        settings = load_settings(sources=[TOKEN_SOURCE], environ={"SHOP_TOKEN": "tok-123456"})
        assert settings.sources[0].secret_values() == ["tok-123456"]
        assert "tok-123456" in settings.secrets()
        assert "tok-123456" not in repr(settings)

    def test_literal_secret(self) -> None:
        """A secret without ``env:`` is used as written."""
        settings = load_settings(sources=[{**TOKEN_SOURCE, "secret": "plain-secret"}])
        assert settings.sources[0].secret_values() == ["plain-secret"]


class TestRefusals:
    @pytest.mark.parametrize(
        ("sources", "message"),
        [
            (
                [TOKEN_SOURCE],
                'source "shop": key "secret" reads the environment variable '
                "SHOP_TOKEN, which is not set",
            ),
            ([table(verify="nonsense")], 'source "shop": key "verify"'),
            ([{"verify": "none", "notify": [1]}], '[[sources]] table 1: key "name"'),
            ([table(name="telegram")], "key \"name\": 'telegram' is the built-in"),
            ([table(name="Shop!")], 'source "Shop!": key "name"'),
            ([table(secert="x")], 'source "shop": unknown key "secert"'),
            ([table(path="hooks")], 'source "shop": key "path": must start with /'),
            ([table(notify=[])], 'source "shop": key "notify"'),
            ([table(notify=["me"])], 'source "shop": key "notify"'),
            ([table(dedup="webhook-id")], 'source "shop": key "dedup"'),
            ([table(ordering="json:")], 'source "shop": key "ordering"'),
            ([table(handler="no_colon")], 'source "shop": key "handler"'),
            ([table(secret="x")], 'source "shop": key "secret": verify = "none" does not use'),
            ([table(verify="token", secret="x")], 'source "shop": key "header"'),
            ([table(verify="stripe")], 'source "shop": key "secret": verify = "stripe" needs'),
            ([table(verify="ip")], 'source "shop": key "allowed_ips"'),
            ([table(allowed_ips=["10.0.0.300"])], 'source "shop": key "allowed_ips"'),
            ([table(tolerance=60)], 'source "shop": key "tolerance"'),
            ([table(), table()], 'source "shop": key "name": another source'),
            ([table(), table(name="b", path="/hooks/shop")], 'source "b": key "path"'),
            ([table(path="/webhook")], "the Telegram webhook"),
        ],
    )
    def test_names_the_source_and_the_key(self, sources: list[Any], message: str) -> None:
        """Each problem in a table is a ConfigError naming the source (or table) and the key."""
        with pytest.raises(ConfigError) as caught:
            load_settings(sources=sources, environ={})
        assert message in str(caught.value)

    def test_bad_table_stops_start_up(self, tmp_path: Path) -> None:
        """``hookgram run`` with a bad table: one line naming source and key, exit status 2."""
        (tmp_path / "hookgram.toml").write_text(
            '[[sources]]\nname = "shop"\nverify = "hmac-sha256"\nsecret = "env:SHOP_SECRET"\n'
            'header = "X-Sig"\nnotify = [1]\n'
        )
        result = subprocess.run(
            [sys.executable, "-m", "hookgram", "run"],
            env={"PATH": "/usr/bin:/bin", "BOT_TOKEN": "1:x"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            'error: source "shop": key "secret" reads the environment variable SHOP_SECRET, '
            "which is not set (export it, or put it in .env)"
        ]

    def test_secret_from_dotenv(self, tmp_path: Path) -> None:
        """A variable set in .env resolves ``env:NAME`` too, as settings read .env."""
        (tmp_path / "hookgram.toml").write_text(
            '[[sources]]\nname = "shop"\nverify = "token"\nsecret = "env:SHOP_SECRET"\n'
            'header = "X-Token"\nnotify = [1]\n'
        )
        (tmp_path / ".env").write_text("SHOP_SECRET=from-dotenv\n")
        result = subprocess.run(
            [sys.executable, "-m", "hookgram", "events", "list"],
            env={"PATH": "/usr/bin:/bin"},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
