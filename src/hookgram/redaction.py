"""Keeps secrets (bot token, secret tokens, source secrets) out of logs and stored errors."""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "***"


class Redactor(logging.Filter):
    """Replaces every known secret with ``***``; also usable as a log filter."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first so a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with every secret masked."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the record's message once, masked, so arguments cannot leak either."""
        if self._secrets:
            message = record.getMessage()
            masked = self(message)
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                record.exc_text = self(record.exc_text)
            if masked != message or record.args:
                record.msg, record.args = masked, ()
        return True
