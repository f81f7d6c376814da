"""Settings: read once (environment, ``.env``, TOML file, CLI flags) and passed down."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hookgram.errors import ConfigError
from hookgram.security import TELEGRAM_NETWORKS, AllowList, parse_network
from hookgram.sources.config import SourceConfig, check_distinct, resolve_secrets

TELEGRAM_API_URL = "https://api.telegram.org"
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_PORTS = (443, 80, 88, 8443)
ANY_ADDRESS = "any"
MIN_INSPECTOR_TOKEN = 16


class Settings(BaseSettings):
    """Everything hookgram can be told. Each field is described once, here."""

    model_config = SettingsConfigDict(
        env_prefix="HOOKGRAM_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("bot_token", "BOT_TOKEN", "HOOKGRAM_BOT_TOKEN"),
        description="the bot token from @BotFather",
    )
    public_url: str | None = Field(
        default=None,
        description="the https base URL Telegram reaches, e.g. https://bot.example.com",
    )
    webhook_path: str = Field(default="/webhook", description="the path Telegram posts to")
    host: str = Field(default="0.0.0.0", description="the address the server listens on")
    port: int = Field(
        default=8080,
        ge=0,
        le=65535,
        description="the port the server listens on (0: any free port)",
    )
    secret_token: SecretStr | None = Field(
        default=None,
        description="1-256 characters of A-Za-z0-9_- (derived from the bot token when unset)",
    )
    database_url: str = Field(
        default="sqlite+aiosqlite:///hookgram.db",
        description="the inbox database, sqlite:///path or postgresql://user:pass@host/db",
    )
    api_url: str = Field(default=TELEGRAM_API_URL, description="the Bot API server base URL")
    max_connections: int = Field(
        default=40, ge=1, le=100, description="setWebhook max_connections, 1-100"
    )
    allowed_updates: list[str] | None = Field(
        default=None,
        description="update types to receive (default: derived from the bot's handlers)",
    )
    drop_pending_updates: bool = Field(
        default=False, description="drop updates Telegram holds when the webhook is set"
    )
    polling: bool = Field(default=False, description="use getUpdates instead of a webhook")
    worker: bool = Field(default=True, description="run the worker in the serving process")
    worker_concurrency: int = Field(
        default=64, ge=1, le=10_000, description="inbox rows processed at once"
    )
    max_attempts: int = Field(
        default=8, ge=1, le=1000, description="attempts before an event is marked dead"
    )
    lease_seconds: float = Field(
        default=60.0, gt=0, description="how long a claimed row stays with its worker"
    )
    shutdown_timeout: float = Field(
        default=10.0, ge=0, description="seconds in-flight work may take after SIGTERM"
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest request body accepted, in bytes"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR"
    )
    allowed_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(TELEGRAM_NETWORKS),
        description="networks the Telegram route accepts, comma-separated "
        "(default: Telegram's 149.154.160.0/20,91.108.4.0/22; any: every address)",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="reverse proxies whose forwarding headers are believed, "
        "comma-separated networks (default: none)",
    )
    previous_secret_token: SecretStr | None = Field(
        default=None,
        description="the secret token being rotated out, still accepted until removed",
    )
    tls_cert: Path | None = Field(
        default=None,
        description="PEM certificate (with its chain) to serve HTTPS with, with HOOKGRAM_TLS_KEY",
    )
    tls_key: Path | None = Field(
        default=None, description="PEM private key of HOOKGRAM_TLS_CERT (unencrypted)"
    )
    client_timeout: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="seconds a client may take to send a request, and to stay idle between two",
    )
    sources: list[SourceConfig] = Field(
        default_factory=list,
        description="third-party webhook sources, one [[sources]] table each in the TOML file",
    )
    webhook_ip_address: str | None = Field(
        default=None,
        description="setWebhook ip_address: the IPv4 address Telegram sends to instead of "
        "resolving the public URL's host",
    )
    force_set_webhook: bool = Field(
        default=False,
        description="call setWebhook at start-up even when Telegram's webhook already matches "
        "(needed after changing the secret token, which Telegram never reports back)",
    )
    inspector_token: SecretStr | None = Field(
        default=None,
        description="turns on the inspector at /inspector; the token that opens it "
        "(at least 16 characters)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="when set, GET /metrics needs Authorization: Bearer with this token",
    )
    metrics_allowed_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="networks that may read /metrics, comma-separated (default: any address)",
    )
    webhook_info_interval: float = Field(
        default=60.0,
        ge=0,
        description="seconds between getWebhookInfo reads for the metrics (0: never)",
    )
    migrate: bool = Field(
        default=False,
        description="apply pending inbox migrations at start-up (else `hookgram db upgrade`)",
    )
    database_pool_size: int = Field(
        default=10,
        ge=2,
        le=1000,
        description="most PostgreSQL connections one process opens (a worker listens on one)",
    )
    worker_poll_interval: float = Field(
        default=0.25,
        gt=0,
        le=3600,
        description="seconds an idle worker waits before looking for due rows again",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="redis://… to keep aiogram's FSM state and event isolation in Redis",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags beat the environment, which beats ``.env``, which beats the TOML file."""
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
        )

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        for plain, driver in (
            ("sqlite://", "sqlite+aiosqlite://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
        ):
            if value.startswith(plain):
                return driver + value[len(plain) :]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _absolute_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("secret_token")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not SECRET_TOKEN_PATTERN.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("allowed_ips", "trusted_proxies", "metrics_allowed_ips", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value

    @field_validator("allowed_ips", "trusted_proxies", "metrics_allowed_ips")
    @classmethod
    def _networks(cls, value: list[str], info: ValidationInfo) -> list[str]:
        entries = [entry.strip() for entry in value if entry.strip()]
        if info.field_name == "allowed_ips" and ANY_ADDRESS in entries:
            if entries != [ANY_ADDRESS]:
                raise ValueError('"any" cannot be combined with networks')
            return entries
        for entry in entries:
            parse_network(entry)
        return entries

    @field_validator("previous_secret_token")
    @classmethod
    def _previous_telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return cls._telegram_secret(value)

    @field_validator("api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("webhook_ip_address")
    @classmethod
    def _ipv4(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return str(ipaddress.IPv4Address(value.strip()))
        except ValueError as exc:
            raise ValueError("must be an IPv4 address (Telegram delivers over IPv4 only)") from exc

    @field_validator("inspector_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_INSPECTOR_TOKEN:
            raise ValueError(
                f"must be at least {MIN_INSPECTOR_TOKEN} characters (make one with: "
                'python3 -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _telegram_reachable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must start with https:// (Telegram refuses plain http)")
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise ValueError("has a malformed port") from exc
        if port not in WEBHOOK_PORTS:
            raise ValueError(
                f"uses port {port}; Telegram delivers only to ports 443, 80, 88 and 8443"
            )
        return value.rstrip("/")

    def token(self) -> str:
        """The bot token, or a ConfigError saying how to provide it."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigError(
                "BOT_TOKEN is not set: put the token @BotFather gave you in BOT_TOKEN "
                "(environment or .env)"
            )
        return self.bot_token.get_secret_value().strip()

    def webhook_secret(self) -> str:
        """The configured secret token, else one derived from the bot token (stable)."""
        if self.secret_token is not None:
            return self.secret_token.get_secret_value()
        digest = hmac.new(self.token().encode(), b"hookgram-webhook-secret", hashlib.sha256)
        return digest.hexdigest()

    def webhook_url(self) -> str:
        """The URL Telegram posts to, or a ConfigError saying how to provide it."""
        if self.public_url is None:
            raise ConfigError(
                "HOOKGRAM_PUBLIC_URL is not set: set it to the https base URL Telegram reaches "
                "(e.g. https://bot.example.com), or run with --polling for local work"
            )
        return self.public_url + self.webhook_path

    def metrics_allow_list(self) -> AllowList | None:
        """The networks that may read /metrics, or None for any address."""
        if not self.metrics_allowed_ips:
            return None
        return AllowList.parse(self.metrics_allowed_ips, setting="HOOKGRAM_METRICS_ALLOWED_IPS")

    def secrets(self) -> list[str]:
        """Every secret value hookgram holds, for redaction in logs."""
        values = [
            self.bot_token,
            self.secret_token,
            self.previous_secret_token,
            self.inspector_token,
            self.metrics_token,
        ]
        found = [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]
        if self.bot_token is not None and self.bot_token.get_secret_value().strip():
            found.append(self.webhook_secret())
        found.extend(secret for source in self.sources for secret in source.secret_values())
        redis_url = self.redis_url.get_secret_value() if self.redis_url is not None else None
        for url in (self.database_url, redis_url):
            password = urlsplit(url).password if url else None
            if password:
                found.extend([password, unquote(password)])
        return found

    def accepted_secrets(self) -> list[str]:
        """The secret tokens the webhook accepts: the current one, and the previous one."""
        accepted = [self.webhook_secret()]
        if self.previous_secret_token is not None:
            accepted.append(self.previous_secret_token.get_secret_value())
        return accepted

    def telegram_allow_list(self) -> AllowList | None:
        """The networks the Telegram route accepts; None when any address is accepted."""
        if self.allowed_ips == [ANY_ADDRESS]:
            return None
        return AllowList.parse(self.allowed_ips, setting="HOOKGRAM_ALLOWED_IPS")

    def proxy_allow_list(self) -> AllowList:
        """The reverse proxies whose forwarding headers are read."""
        return AllowList.parse(self.trusted_proxies, setting="HOOKGRAM_TRUSTED_PROXIES")


def setting_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return "BOT_TOKEN" if field == "bot_token" else f"HOOKGRAM_{field.upper()}"


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings; any problem becomes a ConfigError naming the setting.

    ``environ`` resolves the sources' ``env:NAME`` secrets (the CLI passes the environment).
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigError(
            f"config file {config_file} does not exist: fix HOOKGRAM_CONFIG or --config"
        )

    class _Settings(Settings):
        model_config = SettingsConfigDict(toml_file=config_file)

    try:
        settings: Settings = _Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"config file {config_file} could not be read: {exc}") from None
    if settings.sources:
        settings = _with_sources(settings, environ or {})
    return settings


def _with_sources(settings: Settings, environ: Mapping[str, str]) -> Settings:
    # Imported here: the schemes are needed only when sources are configured.
    from hookgram.sources.webhook import build_sources

    check_distinct(settings.sources, settings.webhook_path)
    sources = resolve_secrets(settings.sources, environ)
    build_sources(sources)  # a malformed secret or network stops start-up here, naming the source
    return settings.model_copy(update={"sources": sources})


def _describe(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else "settings"
    description = Settings.model_fields[field].description if field in Settings.model_fields else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    if field == "sources":
        return _describe_source(error["loc"], message)
    fix = f" (expected: {description})" if description else ""
    return f"{setting_name(field)} is invalid: {message}{fix}"


def _describe_source(loc: tuple[int | str, ...], message: str) -> str:
    """A problem in a ``[[sources]]`` table: the message names the source and the key."""
    if message.startswith("source "):
        return message
    where = f"[[sources]] table {int(loc[1]) + 1}" if len(loc) > 1 else "sources"
    return f"{where}: {message} (write one [[sources]] table per source, see the README)"
