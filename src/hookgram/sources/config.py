"""The ``[[sources]]`` tables of the config file: one third-party webhook source each."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hookgram.errors import ConfigError

Verify = Literal[
    "none", "ip", "token", "hmac-sha256", "standard-webhooks", "stripe", "cryptopay", "yookassa"
]
ENV_PREFIX = "env:"
# The inbox's source column holds 64 characters; "telegram" is the built-in source.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_NAMES = frozenset({"telegram"})
KEY_PATTERN = re.compile(r"^(header|json):\S+$")
HANDLER_PATTERN = re.compile(r"^[\w.]+:[\w.]+$")

# Which scheme needs which keys; a key given to a scheme that ignores it is an error, not a no-op.
NEEDS_SECRET: frozenset[Verify] = frozenset(
    {"token", "hmac-sha256", "standard-webhooks", "stripe", "cryptopay"}
)
NEEDS_HEADER: frozenset[Verify] = frozenset({"token", "hmac-sha256"})
SCHEME_KEYS: Mapping[str, frozenset[Verify]] = {
    "secret": NEEDS_SECRET,
    "header": NEEDS_HEADER,
    "prefix": NEEDS_HEADER,
    "encoding": frozenset({"hmac-sha256"}),
    "tolerance": frozenset({"standard-webhooks", "stripe"}),
}


class SourceConfig(BaseModel):
    """One ``[[sources]]`` table. The README's "Sources" section describes every key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="unique name, used in logs, the CLI and the inspector")
    path: str = Field(default="", description='the path it posts to (default "/hooks/NAME")')
    verify: Verify = Field(description="how requests are authenticated; none only when written")
    secret: list[SecretStr] = Field(
        default_factory=list,
        description='the shared secret, "env:NAME" to read it from the environment; a list '
        "accepts each of several (rotation)",
    )
    allowed_ips: list[str] | None = Field(
        default=None, description="networks the requests may come from (403 otherwise)"
    )
    dedup: str | None = Field(
        default=None,
        description='de-duplication key: "header:NAME" or "json:a.b.c" (default: SHA-256 of '
        "the raw body)",
    )
    ordering: str | None = Field(
        default=None,
        description='events with the same key are handled in arrival order: "header:NAME" or '
        '"json:a.b.c"',
    )
    notify: list[int] = Field(
        default_factory=list, description="chats the default handler messages"
    )
    handler: str | None = Field(
        default=None, description='"module:function", a coroutine run instead of the default'
    )
    header: str | None = Field(default=None, description="the header carrying the token or MAC")
    encoding: Literal["hex", "base64"] = Field(default="hex", description="how the MAC is written")
    prefix: str = Field(default="", description='text before the token or MAC, e.g. "sha256="')
    tolerance: int = Field(
        default=300, ge=1, description="seconds a signed timestamp may be off from now"
    )

    @field_validator("secret", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | SecretStr) else value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value in RESERVED_NAMES:
            raise ValueError(f"{value!r} is the built-in Telegram source; choose another name")
        if not NAME_PATTERN.match(value):
            raise ValueError("must be 1-64 of a-z, 0-9, _ and -, starting with a letter or digit")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("dedup", "ordering")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not KEY_PATTERN.match(value):
            raise ValueError('must be "header:NAME" or "json:a.b.c"')
        return value

    @field_validator("handler")
    @classmethod
    def _handler(cls, value: str | None) -> str | None:
        if value is not None and not HANDLER_PATTERN.match(value):
            raise ValueError('must look like "package.module:function"')
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_path(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("path") and isinstance(data.get("name"), str):
            return {**data, "path": f"/hooks/{data['name']}"}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SourceConfig:
        for key, schemes in SCHEME_KEYS.items():
            if key in self.model_fields_set and self.verify not in schemes:
                raise ValueError(f'key "{key}": verify = "{self.verify}" does not use it')
        if self.verify in NEEDS_SECRET and not self.secret:
            raise ValueError(f'key "secret": verify = "{self.verify}" needs a secret')
        if self.verify in NEEDS_HEADER and not self.header:
            raise ValueError(f'key "header": verify = "{self.verify}" needs the header name')
        if self.verify == "ip" and not self.allowed_ips:
            raise ValueError('key "allowed_ips": verify = "ip" needs the allowed networks')
        if not self.notify and self.handler is None:
            raise ValueError(
                'key "notify": give the chats to message (notify = [123456789]) or a handler '
                '(handler = "module:function")'
            )
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _named(cls, data: Any, handler: ModelWrapValidatorHandler[SourceConfig]) -> SourceConfig:
        """Every problem in a table is reported with the source's name and the key."""
        try:
            return handler(data)
        except ValidationError as exc:
            name = data.get("name") if isinstance(data, dict) else None
            problem = _first_problem(exc)
            # Without a name, the settings error names the table by its position instead.
            raise ValueError(f"{source_label(name)}: {problem}" if name else problem) from None

    def secret_values(self) -> list[str]:
        """The secrets as text (after ``resolve_secrets``)."""
        return [s.get_secret_value() for s in self.secret]


def source_label(name: object) -> str:
    """How messages name a source."""
    return f'source "{name}"'


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:
        return message
    key = str(error["loc"][0])
    if error["type"] == "extra_forbidden":
        return f'unknown key "{key}" (check its spelling against the README)'
    return f'key "{key}": {message}'


def resolve_secrets(
    sources: Sequence[SourceConfig], environ: Mapping[str, str]
) -> list[SourceConfig]:
    """Replace each ``env:NAME`` secret by that variable's value; a missing one is a ConfigError."""
    resolved = []
    for source in sources:
        values = []
        for secret in source.secret_values():
            if secret.startswith(ENV_PREFIX):
                variable = secret.removeprefix(ENV_PREFIX)
                secret = environ.get(variable, "")
                if not secret:
                    raise ConfigError(
                        f'{source_label(source.name)}: key "secret" reads the environment '
                        f"variable {variable}, which is not set (export it, or put it in .env)"
                    )
            values.append(SecretStr(secret))
        resolved.append(source.model_copy(update={"secret": values}))
    return resolved


def check_distinct(sources: Sequence[SourceConfig], webhook_path: str) -> None:
    """Names and paths must be unique, and no path may be the Telegram webhook's."""
    names: set[str] = set()
    paths = {webhook_path: "the Telegram webhook (HOOKGRAM_WEBHOOK_PATH)"}
    for source in sources:
        label = source_label(source.name)
        if source.name in names:
            raise ConfigError(f'{label}: key "name": another source has the same name')
        names.add(source.name)
        if source.path in paths:
            raise ConfigError(
                f'{label}: key "path": {source.path} is already the path of {paths[source.path]}'
            )
        paths[source.path] = label
