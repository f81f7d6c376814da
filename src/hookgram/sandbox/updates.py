"""Methods that decide how updates reach the bot: setWebhook, deleteWebhook, getWebhookInfo,
getUpdates."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from hookgram.sandbox.replies import APIError, Described
from hookgram.sandbox.request import Args
from hookgram.sandbox.state import BotIdentity, World

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
_DEFAULT_MAX_CONNECTIONS = 40
_MAX_UPDATES = 100
# Telegram sends these only when allowed_updates names them.
_ON_REQUEST_ONLY = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


async def set_webhook(world: World, bot: BotIdentity, args: Args) -> Described:
    """Store the webhook after Telegram's checks; an empty url removes it."""
    url = args.text("url") or ""
    if not url:
        return await delete_webhook(world, bot, args)
    _check_url(url, allow_http=world.allow_http_webhook)
    secret_token = args.text("secret_token")
    if secret_token is not None and not _SECRET_TOKEN.fullmatch(secret_token):
        raise APIError.bad_request("secret token contains unallowed characters")
    max_connections = args.integer("max_connections", _DEFAULT_MAX_CONNECTIONS)
    if max_connections is None or not 1 <= max_connections <= 100:
        raise APIError.bad_request("max_connections must be between 1 and 100")
    webhook = world.webhook
    already = webhook.url == url
    certificate = args.upload("certificate")
    if "allowed_updates" in args.params:
        webhook.allowed_updates = _allowed_updates(args)
    if args.flag("drop_pending_updates"):
        _drop_pending(world)
    webhook.url = url
    webhook.secret_token = secret_token
    webhook.max_connections = max_connections
    webhook.ip_address = args.text("ip_address") or None
    webhook.certificate = certificate[1] if isinstance(certificate, tuple) else None
    webhook.has_custom_certificate = webhook.certificate is not None
    world.updates.nudge.set()
    return Described(True, "Webhook is already set" if already else "Webhook was set")


async def delete_webhook(world: World, bot: BotIdentity, args: Args) -> Described:
    """Remove the webhook, optionally dropping pending updates."""
    if args.flag("drop_pending_updates"):
        _drop_pending(world)
    return _remove_webhook(world)


async def get_webhook_info(world: World, bot: BotIdentity, args: Args) -> dict[str, Any]:
    """The WebhookInfo object for the current state."""
    return world.webhook.info()


async def get_updates(world: World, bot: BotIdentity, args: Args) -> list[dict[str, Any]]:
    """Confirm updates before `offset`, then long-poll for up to `timeout` seconds."""
    if world.webhook.url:
        raise APIError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    if "allowed_updates" in args.params:
        # As on Telegram, the list applies from now on and is shared with the webhook's.
        world.webhook.allowed_updates = _allowed_updates(args)
    offset = args.integer("offset", 0) or 0
    if offset:
        confirmed = world.updates.confirm(offset)
        world.webhook.pending_update_count = max(0, world.webhook.pending_update_count - confirmed)
    # Telegram clamps limit into 1..100 rather than refusing it.
    limit = min(max(args.integer("limit", _MAX_UPDATES) or 1, 1), _MAX_UPDATES)
    timeout = max(args.integer("timeout", 0) or 0, 0)
    return await world.updates.wait(limit, timeout)


def enqueue(world: World, update: dict[str, Any]) -> int:
    """Queue an update for the webhook or getUpdates; returns its update_id.

    An update of a type the bot did not ask for (allowed_updates) is dropped, as on Telegram.
    """
    message = update.get("message")
    if isinstance(message, dict) and "chat" in message and "message_id" in message:
        world.chats.observe(int(message["chat"]["id"]), int(message["message_id"]))
    kind = update_kind(update)
    wanted = kind is None or kind in allowed_kinds(world.webhook.allowed_updates)
    if not wanted:
        update_id = world.updates.next_id(update)
    else:
        world.webhook.pending_update_count += 1
        update_id = world.updates.push(update)
    if world.chats.keep_messages:
        dropped = None if wanted else "not in allowed_updates, so Telegram would not send it"
        shown = {"update_id": update_id, **update}  # Telegram's order: update_id first
        world.journal.add("update", update_chat(update), update=shown, dropped=dropped)
    return update_id


def update_kind(update: dict[str, Any]) -> str | None:
    """The update's type: its one field besides update_id (None for a bare test update)."""
    return next((key for key in update if key != "update_id"), None)


def allowed_kinds(allowed: list[str] | None) -> frozenset[str] | _Everything:
    """The update types delivered for an allowed_updates value (empty: the default set)."""
    if allowed:
        return frozenset(allowed)
    return _Everything()


def update_chat(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to, if any (a callback's message's chat included)."""
    for payload in update.values():
        if not isinstance(payload, dict):
            continue
        for holder in (payload, payload.get("message")):
            chat = holder.get("chat") if isinstance(holder, dict) else None
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return int(sender["id"])
    return None


class _Everything:
    """Every update type except those Telegram sends only on request."""

    def __contains__(self, kind: object) -> bool:
        return kind not in _ON_REQUEST_ONLY


def _remove_webhook(world: World) -> Described:
    already = not world.webhook.url
    world.webhook.remove()
    return Described(True, "Webhook is already deleted" if already else "Webhook was deleted")


def _drop_pending(world: World) -> None:
    world.updates.clear()
    world.webhook.pending_update_count = 0
    world.webhook.drop_pending_updates_calls += 1


def _check_url(url: str, *, allow_http: bool) -> None:
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed_schemes:
        raise APIError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not parts.hostname:
        raise APIError.bad_request("bad webhook: Failed to resolve host: Name or service not known")
    try:
        port = parts.port
    except ValueError as exc:
        raise APIError.bad_request("bad webhook: Wrong port number specified in the URL") from exc
    # A loopback test webhook (allow_http_webhook) listens on whatever port the OS gave it.
    if not allow_http and port is not None and port not in _WEBHOOK_PORTS:
        raise APIError.bad_request(
            "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
        )


def _allowed_updates(args: Args) -> list[str] | None:
    value = args.structure("allowed_updates")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise APIError.bad_request("can't parse allowed updates: expected an Array of Strings")
    return value
