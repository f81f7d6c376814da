"""Settings: where they come from, and what a bad one looks like to the operator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hookgram.config import load_settings
from hookgram.errors import ConfigError


class TestSources:
    def test_precedence(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Flags beat the environment, which beats .env, which beats the TOML file."""
        toml = tmp_path / "hookgram.toml"
        toml.write_text('port = 1111\nhost = "10.0.0.1"\nwebhook_path = "/from-toml"\n')
        (tmp_path / ".env").write_text("HOOKGRAM_PORT=2222\nHOOKGRAM_HOST=10.0.0.2\n")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("HOOKGRAM_PORT", "3333")
        settings = load_settings(toml, port=4444)
        assert settings.port == 4444
        assert settings.host == "10.0.0.2"
        assert settings.webhook_path == "/from-toml"

    def test_database_url_forms(self) -> None:
        """sqlite:/// and postgresql:// are accepted and mapped to their async drivers."""
        assert load_settings(database_url="sqlite:///a.db").database_url == (
            "sqlite+aiosqlite:///a.db"
        )
        assert load_settings(database_url="sqlite+aiosqlite:///a.db").database_url == (
            "sqlite+aiosqlite:///a.db"
        )
        assert load_settings(database_url="postgresql://u@h/db").database_url == (
            "postgresql+asyncpg://u@h/db"
        )

    def test_derived_secret_is_stable(self) -> None:
        """Without a configured secret, one is derived from the token, the same every time."""
        first = load_settings(bot_token="1:abc").webhook_secret()
        assert first == load_settings(bot_token="1:abc").webhook_secret()
        assert first != load_settings(bot_token="1:abd").webhook_secret()
        assert "1:abc" not in first


class TestErrors:
    @pytest.mark.parametrize(
        ("overrides", "names"),
        [
            ({"public_url": "http://bot.example.com"}, "HOOKGRAM_PUBLIC_URL"),
            ({"public_url": "https://bot.example.com:9000"}, "HOOKGRAM_PUBLIC_URL"),
            ({"secret_token": "has spaces"}, "HOOKGRAM_SECRET_TOKEN"),
            ({"database_url": "mysql://x"}, "HOOKGRAM_DATABASE_URL"),
            ({"webhook_path": "webhook"}, "HOOKGRAM_WEBHOOK_PATH"),
            ({"max_connections": 500}, "HOOKGRAM_MAX_CONNECTIONS"),
            ({"webhook_ip_address": "2001:db8::1"}, "HOOKGRAM_WEBHOOK_IP_ADDRESS"),
        ],
    )
    def test_message_names_the_setting(self, overrides: dict[str, object], names: str) -> None:
        """A malformed setting is a ConfigError naming the environment variable."""
        with pytest.raises(ConfigError, match=names):
            load_settings(**overrides)

    def test_missing_token(self) -> None:
        """A missing token says where to put it."""
        with pytest.raises(ConfigError, match="BOT_TOKEN is not set"):
            load_settings().token()


class TestCommandLine:
    def _run(
        self, tmp_path: Path, env: dict[str, str], *args: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hookgram", "run", *args],
            env={"PATH": "/usr/bin:/bin", **env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({}, "BOT_TOKEN is not set"),
            ({"BOT_TOKEN": "1:x"}, "HOOKGRAM_PUBLIC_URL is not set"),
            ({"BOT_TOKEN": "1:x", "HOOKGRAM_PORT": "eighty"}, "HOOKGRAM_PORT is invalid"),
            (
                {"BOT_TOKEN": "1:x", "HOOKGRAM_PUBLIC_URL": "http://bot.example.com"},
                "must start with https://",
            ),
            (
                {"BOT_TOKEN": "1:x", "HOOKGRAM_CONFIG": "missing.toml"},
                "missing.toml does not exist",
            ),
        ],
    )
    def test_bad_setting_is_one_line_and_exit_2(
        self, tmp_path: Path, env: dict[str, str], expected: str
    ) -> None:
        """A bad setting stops start-up with one line on stderr, exit status 2, no traceback."""
        result = self._run(tmp_path, env)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert expected in lines[0]
        assert "Traceback" not in result.stderr

    def test_toml_with_bad_syntax(self, tmp_path: Path) -> None:
        """An unreadable TOML file is named in the error."""
        (tmp_path / "hookgram.toml").write_text("port = = 3\n")
        result = self._run(tmp_path, {"BOT_TOKEN": "1:x"})
        assert result.returncode == 2
        assert "hookgram.toml" in result.stderr
        assert "Traceback" not in result.stderr


class TestSecuritySettings:
    def test_comma_separated_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """HOOKGRAM_ALLOWED_IPS and HOOKGRAM_TRUSTED_PROXIES take comma-separated networks."""
        monkeypatch.setenv("HOOKGRAM_ALLOWED_IPS", "203.0.113.0/24, 2001:db8::/32,198.51.100.7")
        monkeypatch.setenv("HOOKGRAM_TRUSTED_PROXIES", "127.0.0.1")
        settings = load_settings()
        assert settings.allowed_ips == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]
        allow = settings.telegram_allow_list()
        assert allow is not None
        assert allow.allows("2001:db8::1")
        assert not allow.allows("149.154.160.1")
        assert settings.proxy_allow_list().allows("127.0.0.1")

    def test_lists_from_toml(self, tmp_path: Path) -> None:
        """The TOML file may give the networks as a list."""
        toml = tmp_path / "hookgram.toml"
        toml.write_text('allowed_ips = ["203.0.113.0/24"]\ntrusted_proxies = "10.0.0.0/8"\n')
        settings = load_settings(toml)
        assert settings.allowed_ips == ["203.0.113.0/24"]
        assert settings.trusted_proxies == ["10.0.0.0/8"]

    def test_defaults(self) -> None:
        """By default only Telegram's ranges are allowed and no proxy is trusted."""
        settings = load_settings()
        assert settings.allowed_ips == ["149.154.160.0/20", "91.108.4.0/22"]
        assert settings.proxy_allow_list().networks == ()
        assert settings.max_body_bytes == 1_048_576

    def test_any(self) -> None:
        """``any`` switches the Telegram route's address check off."""
        assert load_settings(allowed_ips="any").telegram_allow_list() is None

    @pytest.mark.parametrize(
        ("overrides", "names"),
        [
            ({"allowed_ips": "203.0.113.0/24,any"}, "HOOKGRAM_ALLOWED_IPS"),
            ({"allowed_ips": "10.0.0.300"}, "HOOKGRAM_ALLOWED_IPS is invalid: '10.0.0.300'"),
            ({"trusted_proxies": "any"}, "HOOKGRAM_TRUSTED_PROXIES"),
            ({"trusted_proxies": "nginx"}, "HOOKGRAM_TRUSTED_PROXIES"),
            ({"previous_secret_token": "has spaces"}, "HOOKGRAM_PREVIOUS_SECRET_TOKEN"),
            ({"previous_secret_token": "x" * 257}, "HOOKGRAM_PREVIOUS_SECRET_TOKEN"),
            ({"secret_token": ""}, "HOOKGRAM_SECRET_TOKEN"),
            ({"client_timeout": 0}, "HOOKGRAM_CLIENT_TIMEOUT"),
        ],
    )
    def test_bad_values_name_the_setting(self, overrides: dict[str, object], names: str) -> None:
        """A malformed network list, previous secret or timeout names its setting."""
        with pytest.raises(ConfigError, match=names):
            load_settings(**overrides)

    def test_previous_secret_is_accepted_and_redacted(self) -> None:
        """The previous secret is accepted beside the current one and masked in logs."""
        settings = load_settings(
            bot_token="1:abc", secret_token="new", previous_secret_token="old1"
        )
        assert settings.accepted_secrets() == ["new", "old1"]
        assert "old1" in settings.secrets()


class TestPublicURLRules:
    @pytest.mark.parametrize(
        ("url", "accepted"),
        [
            ("https://bot.example.com", True),
            ("https://bot.example.com:443", True),
            ("https://bot.example.com:80", True),
            ("https://bot.example.com:88", True),
            ("https://bot.example.com:8443", True),
            ("https://203.0.113.7:8443", True),
            ("https://bot.example.com:8080", False),
            ("https://bot.example.com:8444", False),
            ("http://bot.example.com", False),
            ("ftp://bot.example.com", False),
            ("https://", False),
            ("https://bot.example.com:port", False),
        ],
    )
    def test_https_and_telegram_ports_only(self, url: str, accepted: bool) -> None:
        """Only https:// on port 443, 80, 88 or 8443 is accepted (Telegram's rule)."""
        if accepted:
            assert load_settings(public_url=url).public_url == url
        else:
            with pytest.raises(ConfigError, match="HOOKGRAM_PUBLIC_URL"):
                load_settings(public_url=url)

    def test_start_up_message_for_a_wrong_port(self, tmp_path: Path) -> None:
        """`hookgram run` with a port Telegram cannot deliver to stops and says which ports work."""
        result = subprocess.run(
            [sys.executable, "-m", "hookgram", "run"],
            env={
                "PATH": "/usr/bin:/bin",
                "BOT_TOKEN": "1:x",
                "HOOKGRAM_PUBLIC_URL": "https://bot.example.com:8080",
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert "HOOKGRAM_PUBLIC_URL" in line
        assert "uses port 8080; Telegram delivers only to ports 443, 80, 88 and 8443" in line
