"""The webhook hookgram registers, built once from the settings and compared with Telegram's.

``run`` and ``hookgram webhook set`` both build it with :func:`desired_webhook`, so they
register exactly the same thing; :func:`ensure_webhook` calls setWebhook only when Telegram's
copy differs, so replicas starting together do not reset it one after another.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookgram.config import Settings
from hookgram.errors import BotAPIError
from hookgram.telegram import BotAPI, with_retries

log = logging.getLogger(__name__)

# Telegram's max_connections when setWebhook was given none.
DEFAULT_MAX_CONNECTIONS = 40


@dataclass(frozen=True)
class DesiredWebhook:
    """What setWebhook should hold; ``allowed_updates`` None leaves Telegram's list unchanged."""

    url: str
    secret_token: str = field(repr=False)
    max_connections: int
    allowed_updates: tuple[str, ...] | None
    ip_address: str | None
    certificate: bytes | None = field(default=None, repr=False)

    def params(self, *, drop_pending_updates: bool = False) -> dict[str, Any]:
        """The setWebhook parameters (the certificate goes separately, as a file)."""
        return {
            "url": self.url,
            "secret_token": self.secret_token,
            "max_connections": self.max_connections,
            "allowed_updates": None if self.allowed_updates is None else list(self.allowed_updates),
            "ip_address": self.ip_address,
            # Only ever sent when asked: dropping is Telegram's one irreversible webhook call.
            "drop_pending_updates": True if drop_pending_updates else None,
        }

    def files(self) -> dict[str, tuple[str, bytes]] | None:
        """The certificate upload, present only for a self-signed certificate."""
        if self.certificate is None:
            return None
        return {"certificate": ("certificate.pem", self.certificate)}


def desired_webhook(
    settings: Settings,
    handler_update_types: Sequence[str] | None,
    certificate: bytes | None = None,
) -> DesiredWebhook:
    """The webhook to register: HOOKGRAM_ALLOWED_UPDATES, else the update types the handlers use.

    ``certificate`` is the PEM to upload, given only when the served certificate is
    self-signed (uploading a CA-issued one makes Telegram pin it and breaks delivery).
    """
    allowed = settings.allowed_updates
    if allowed is None:
        allowed = list(handler_update_types) if handler_update_types is not None else None
    return DesiredWebhook(
        url=settings.webhook_url(),
        secret_token=settings.webhook_secret(),
        max_connections=settings.max_connections,
        allowed_updates=None if allowed is None else tuple(allowed),
        ip_address=settings.webhook_ip_address,
        certificate=certificate,
    )


async def handler_update_types(settings: Settings, app_spec: str | None) -> list[str] | None:
    """The update types APP's handlers use, as ``run`` derives them (None when configured)."""
    if settings.allowed_updates is not None:
        return None
    # Imported here: aiogram and the user's app load only for the commands that need them.
    from hookgram.app_loader import load_dispatcher

    dispatcher = await load_dispatcher(app_spec)
    return dispatcher.resolve_used_update_types()


@dataclass(frozen=True)
class WebhookInfo:
    """Telegram's getWebhookInfo answer."""

    url: str
    has_custom_certificate: bool = False
    pending_update_count: int = 0
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    last_synchronization_error_date: int | None = None
    max_connections: int | None = None
    allowed_updates: tuple[str, ...] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, result: Any) -> WebhookInfo:
        """Read the ``result`` of getWebhookInfo."""
        if not isinstance(result, Mapping) or not isinstance(result.get("url"), str):
            raise BotAPIError(
                "getWebhookInfo: the Bot API answered something that is no WebhookInfo"
            )
        allowed = result.get("allowed_updates")
        return cls(
            url=result["url"],
            has_custom_certificate=bool(result.get("has_custom_certificate")),
            pending_update_count=int(result.get("pending_update_count") or 0),
            ip_address=result.get("ip_address"),
            last_error_date=result.get("last_error_date"),
            last_error_message=result.get("last_error_message"),
            last_synchronization_error_date=result.get("last_synchronization_error_date"),
            max_connections=result.get("max_connections"),
            allowed_updates=None if allowed is None else tuple(allowed),
            raw=dict(result),
        )


@dataclass(frozen=True)
class Difference:
    """One setting where Telegram's webhook is not the configured one."""

    name: str
    registered: str
    configured: str

    def __str__(self) -> str:
        return f"{self.name}: Telegram has {self.registered}, configured {self.configured}"


def differences(desired: DesiredWebhook, info: WebhookInfo) -> list[Difference]:
    """Every setting Telegram reports back that differs (the secret token it never reports)."""
    found: list[Difference] = []

    def compare(name: str, registered: Any, configured: Any, same: bool | None = None) -> None:
        if not (registered == configured if same is None else same):
            found.append(Difference(name, _shown(registered), _shown(configured)))

    compare("url", info.url, desired.url)
    registered_max = info.max_connections or DEFAULT_MAX_CONNECTIONS
    compare("max_connections", registered_max, desired.max_connections)
    if desired.allowed_updates is not None:
        registered, configured = list(info.allowed_updates or ()), list(desired.allowed_updates)
        compare("allowed_updates", registered, configured, set(registered) == set(configured))
    # Telegram reports the address it resolved even when none was set, so only a configured
    # address can be compared.
    if desired.ip_address is not None:
        compare("ip_address", info.ip_address, desired.ip_address)
    compare("custom certificate", info.has_custom_certificate, desired.certificate is not None)
    return found


def _shown(value: object) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) if value else "the default types"
    return str(value)


async def get_webhook_info(api: BotAPI, *, attempts: int | None = None) -> WebhookInfo:
    """getWebhookInfo, retried on transient errors (forever unless ``attempts`` is given)."""
    result = await with_retries(
        "getWebhookInfo", lambda: api.call("getWebhookInfo"), attempts=attempts
    )
    return WebhookInfo.from_api(result)


async def register(
    api: BotAPI,
    desired: DesiredWebhook,
    *,
    drop_pending_updates: bool = False,
    attempts: int | None = None,
) -> None:
    """setWebhook with ``desired``, retried on transient errors."""
    params = desired.params(drop_pending_updates=drop_pending_updates)
    files = desired.files()
    await with_retries(
        "setWebhook", lambda: api.call("setWebhook", params, files=files), attempts=attempts
    )


async def remove(
    api: BotAPI, *, drop_pending_updates: bool = False, attempts: int | None = None
) -> None:
    """deleteWebhook; Telegram keeps pending updates unless ``drop_pending_updates``."""
    params = {"drop_pending_updates": drop_pending_updates}
    await with_retries(
        "deleteWebhook", lambda: api.call("deleteWebhook", params), attempts=attempts
    )


async def ensure_webhook(
    api: BotAPI,
    desired: DesiredWebhook,
    *,
    force: bool = False,
    drop_pending_updates: bool = False,
) -> list[Difference]:
    """Start-up: setWebhook only when Telegram's webhook differs, or when forced or dropping."""
    info = await get_webhook_info(api)
    changed = differences(desired, info)
    if not (changed or force or drop_pending_updates):
        log.info(
            "webhook at %s is up to date; setWebhook skipped "
            "(after changing the secret token, start once with --force-set-webhook)",
            desired.url,
        )
        return changed
    if drop_pending_updates:
        log.warning(
            "dropping %d pending updates, as HOOKGRAM_DROP_PENDING_UPDATES asks",
            info.pending_update_count,
        )
    await register(api, desired, drop_pending_updates=drop_pending_updates)
    reasons = [str(d) for d in changed] or [
        "--force-set-webhook" if force else "--drop-pending-updates"
    ]
    log.info("webhook set to %s (%s)", desired.url, "; ".join(reasons))
    return changed
