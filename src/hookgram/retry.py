"""Retry policy, pure: what becomes of an event whose handler raised, given attempts and now."""

from __future__ import annotations

import random
from dataclasses import dataclass

from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from hookgram.inbox.models import Status


class Unprocessable(Exception):
    """The event cannot be processed as received (kept as ``failed`` for a later replay)."""


class Permanent(Exception):
    """Retrying cannot help (kept as ``dead`` with the reason)."""


class RetryLater(Exception):
    """Try again, no sooner than ``after`` seconds."""

    def __init__(self, message: str, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, then ``dead`` after ``max_attempts``."""

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 600.0

    def backoff(self, attempts: int, rng: random.Random) -> float:
        """Seconds to wait after the ``attempts``-th failure: half fixed, half random."""
        delay = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        return float(delay / 2 + rng.uniform(0, delay / 2))


@dataclass(frozen=True, slots=True)
class Verdict:
    """The status to record, the error text and, for a retry, when to try again."""

    status: Status
    error: str
    next_attempt_at: float | None = None


def decide(
    exc: BaseException, attempts: int, policy: RetryPolicy, now: float, rng: random.Random
) -> Verdict:
    """Classify ``exc`` raised by the ``attempts``-th try of an event."""
    error = describe(exc)
    if isinstance(exc, Unprocessable):
        return Verdict(Status.FAILED, error)
    if is_permanent(exc):
        return Verdict(Status.DEAD, error)
    if attempts >= policy.max_attempts:
        return Verdict(Status.DEAD, f"gave up after {attempts} attempts: {error}")
    wait = policy.backoff(attempts, rng)
    if isinstance(exc, TelegramRetryAfter):
        wait = float(exc.retry_after)
    elif isinstance(exc, RetryLater) and exc.after is not None:
        wait = max(wait, exc.after)
    return Verdict(Status.PENDING, error, now + wait)


def is_permanent(exc: BaseException) -> bool:
    """Retrying cannot help: ``Permanent``, or a Bot API refusal (403 blocked, 400 not found)."""
    return isinstance(exc, Permanent) or (
        isinstance(exc, TelegramAPIError)
        and not isinstance(exc, TelegramRetryAfter | TelegramServerError | TelegramNetworkError)
    )


def describe(exc: BaseException) -> str:
    """One line naming the error's type and message."""
    text = str(exc).strip().replace("\n", " ")
    name = exc.__class__.__name__
    return f"{name}: {text}" if text else name
