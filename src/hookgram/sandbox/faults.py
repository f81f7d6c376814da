"""Injected trouble: errors answered instead of a method's result, and answer delays."""

from __future__ import annotations

from dataclasses import dataclass

from hookgram.sandbox.replies import APIError


@dataclass(slots=True)
class Fault:
    """An error to answer for the next `times` calls of `method` (any method when None)."""

    method: str | None
    status: int
    description: str | None
    retry_after: int | None
    times: int


class Faults:
    """Pending faults, consumed in the order they were added, and per-method delays."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._delays: dict[str | None, float] = {}

    def add(
        self,
        method: str | None,
        *,
        status: int,
        description: str | None,
        retry_after: int | None,
        times: int,
    ) -> None:
        """Queue a fault; 429 needs `retry_after` because aiogram reads it from the answer."""
        if status == 429 and retry_after is None:
            raise ValueError("fail_next(status=429) needs retry_after=<seconds>, as Telegram sends")
        if times < 1:
            raise ValueError(f"fail_next(times={times}) must be at least 1")
        key = method.lower() if method is not None else None
        self._pending.append(Fault(key, status, description, retry_after, times))

    def take(self, method: str) -> APIError | None:
        """The error for this call of `method` (lower-cased), consuming one use of the fault."""
        if not self._pending:
            return None
        for index, fault in enumerate(self._pending):
            if fault.method is None or fault.method == method:
                fault.times -= 1
                if fault.times == 0:
                    del self._pending[index]
                return APIError(fault.status, fault.description, retry_after=fault.retry_after)
        return None

    def set_delay(self, seconds: float, method: str | None) -> None:
        """Delay answers to `method` (every method when None); 0 removes the delay."""
        key = method.lower() if method is not None else None
        if seconds > 0:
            self._delays[key] = seconds
        else:
            self._delays.pop(key, None)

    def delay(self, method: str) -> float:
        """Seconds to wait before answering `method` (lower-cased): its own or the global delay."""
        if not self._delays:
            return 0.0
        return self._delays.get(method, self._delays.get(None, 0.0))
