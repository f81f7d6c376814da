"""The inspector: server-rendered pages over the inbox at ``/inspector``, behind a token."""

from __future__ import annotations

from hookgram.inspector.app import mount_inspector

__all__ = ["mount_inspector"]
