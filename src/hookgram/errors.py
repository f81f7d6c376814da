"""Errors hookgram raises on purpose; each message says what to do about it."""

from __future__ import annotations


class HookgramError(Exception):
    """Base class: the message is meant for the operator, one line, with the fix."""


class ConfigError(HookgramError):
    """A setting is missing or malformed; the message names the setting and the fix."""


class StoreUnavailableError(HookgramError):
    """The inbox database could not be reached or could not commit."""


class BotAPIError(HookgramError):
    """The Bot API refused a start-up or operations call in a way retrying cannot fix."""


class SchemaError(HookgramError):
    """The inbox database's schema does not match this hookgram; the message says what to run."""
