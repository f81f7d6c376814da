"""The worker: claim due inbox rows, run their handlers, record done / retry / failed / dead."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from hookgram.core_share import CoreShare
from hookgram.errors import StoreUnavailableError
from hookgram.inbox.models import Event, Outcome, Status
from hookgram.inbox.store import InboxStore
from hookgram.retry import RetryPolicy, Unprocessable, decide

log = logging.getLogger(__name__)

# What a worker survives by waiting: the inbox database gone for a while.
STORE_ERRORS = (SQLAlchemyError, OSError, StoreUnavailableError)
MAX_STORE_BACKOFF = 10.0

Handler = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker paces itself."""

    worker_id: str
    concurrency: int = 64
    lease_seconds: float = 60.0
    poll_interval: float = 0.25
    shutdown_timeout: float = 10.0
    # While busy, steps (one transaction each) are this far apart, so the outcomes and claims
    # of many updates share a commit instead of costing one each; ingress gets the time saved.
    step_interval: float = 0.01


class Worker:
    """Processes inbox rows with bounded concurrency; one ordering key's rows strictly in order.

    Ordering holds because the store hands out only the oldest unfinished row of each ordering
    key, and a row stays ``processing`` until its outcome is written.
    """

    def __init__(
        self,
        store: InboxStore,
        handlers: Mapping[str, Handler],
        options: WorkerOptions,
        *,
        policy: RetryPolicy,
        redact: Callable[[str], str] = str,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        on_outcome: Callable[[str, Status, float], None] | None = None,
    ) -> None:
        self._store = store
        self._handlers = handlers
        self._options = options
        self._policy = policy
        self._redact = redact
        self._clock = clock
        self._rng = rng or random.Random()
        self._on_outcome = on_outcome  # (source, status, seconds) of each attempt: metrics
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._outcomes: list[Outcome] = []
        self._signal = asyncio.Event()
        self._leases_renewed_at = 0.0
        self._share = CoreShare()
        self.running = False

    @property
    def worker_id(self) -> str:
        """The name this worker's leases and attempts are recorded under."""
        return self._options.worker_id

    def wake(self) -> None:
        """New rows were committed in this process: look for work now."""
        self._share.arrived(self._clock())
        self._signal.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then finish in-flight rows (bounded) and release the rest."""
        self.running = True
        stopper = asyncio.create_task(stop.wait())
        failures = 0
        try:
            while not stop.is_set():
                try:
                    moved = await self._step()
                except STORE_ERRORS as exc:
                    # The inbox is unreachable for now: in-flight work goes on, outcomes are kept
                    # for the next step, and nothing is claimed until the database answers.
                    failures += 1
                    delay = min(MAX_STORE_BACKOFF, self._options.poll_interval * 2**failures)
                    log.error("inbox unavailable (%s); worker retrying in %.1fs", exc, delay)
                    await self._wait(delay, stopper)
                    continue
                failures = 0
                if not moved:
                    await self._wait(self._options.poll_interval, stopper)
                elif self._options.step_interval > 0:
                    await self._pause(stopper)
        finally:
            stopper.cancel()
            await self._shutdown()
            self.running = False

    async def run_until_empty(self, *, wait_for_scheduled: bool = False) -> None:
        """Burst mode: work until nothing is due (or, with ``wait_for_scheduled``, unfinished)."""
        while True:
            progressed = await self._step()
            if progressed or self._inflight or self._outcomes:
                if not progressed and not self._outcomes:
                    await self._wait(self._options.poll_interval, None)
                continue
            if not wait_for_scheduled:
                return
            due = await self._store.next_due(self._clock())
            if due is None:
                return
            await asyncio.sleep(min(max(due - self._clock(), 0.0), self._options.poll_interval))

    async def _pause(self, stopper: asyncio.Task[bool]) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait({stopper}, timeout=self._options.step_interval)
        lag = loop.time() - started - self._options.step_interval
        self._share.slept(lag, self._clock())

    async def _step(self) -> bool:
        """Write outcomes and claim into free slots in one transaction; True when anything moved."""
        self._signal.clear()
        await self._renew_leases()
        outcomes, self._outcomes = self._outcomes, []
        now = self._clock()
        free = self._share.limit(self._options.concurrency, now) - len(self._inflight)
        try:
            recorded, events = await self._store.finish_and_claim(
                self._options.worker_id, outcomes, now, free, self._options.lease_seconds
            )
        except BaseException:
            self._outcomes = outcomes + self._outcomes
            raise
        self._warn_unrecorded(len(outcomes) - recorded)
        for event in events:
            self._start(event)
        return bool(outcomes or events)

    def _start(self, event: Event) -> None:
        task = asyncio.create_task(self._process(event), name=f"hookgram-event-{event.id}")
        self._inflight[event.id] = task
        task.add_done_callback(functools.partial(self._finished, event.id))

    def _finished(self, event_id: int, _task: asyncio.Task[None]) -> None:
        self._inflight.pop(event_id, None)
        self._signal.set()

    async def _process(self, event: Event) -> None:
        started, began = self._clock(), time.perf_counter()
        handler = self._handlers.get(event.source)
        try:
            if handler is None:
                raise Unprocessable(f"no handler is configured for source {event.source!r}")
            await handler(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            verdict = decide(exc, event.attempts, self._policy, self._clock(), self._rng)
            error = self._redact(verdict.error)
            self._log_failure(event, verdict.status, error, exc)
            outcome = Outcome(event.id, verdict.status, started, error, verdict.next_attempt_at)
        else:
            outcome = Outcome(event.id, Status.DONE, started)
        self._outcomes.append(outcome)
        if self._on_outcome is not None:
            self._on_outcome(event.source, outcome.status, time.perf_counter() - began)

    def _log_failure(self, event: Event, status: Status, error: str, exc: Exception) -> None:
        where = f"event {event.id} ({event.source}, attempt {event.attempts})"
        if status is Status.PENDING:
            log.warning("%s will be retried: %s", where, error)
        elif isinstance(exc, Unprocessable):
            log.error("%s failed: %s", where, error)
        else:
            log.error("%s is dead: %s", where, error, exc_info=exc)

    async def _flush(self) -> int:
        if not self._outcomes:
            return 0
        outcomes, self._outcomes = self._outcomes, []
        recorded = await self._store.finish(self._options.worker_id, outcomes, self._clock())
        self._warn_unrecorded(len(outcomes) - recorded)
        return len(outcomes)

    def _warn_unrecorded(self, lost: int) -> None:
        if lost > 0:
            log.warning(
                "%d outcome(s) not recorded: their lease had expired and another worker "
                "took them over",
                lost,
            )

    async def _renew_leases(self) -> None:
        now = self._clock()
        if not self._inflight or now - self._leases_renewed_at < self._options.lease_seconds / 3:
            return
        self._leases_renewed_at = now
        await self._store.extend_leases(
            self._options.worker_id, self._inflight.keys(), now + self._options.lease_seconds
        )

    async def _wait(self, timeout: float, stopper: asyncio.Task[bool] | None) -> None:
        waiter = asyncio.create_task(self._signal.wait())
        waiting: set[asyncio.Future[object]] = {waiter}  # type: ignore[arg-type]
        if stopper is not None:
            waiting.add(stopper)  # type: ignore[arg-type]
        await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    async def _shutdown(self) -> None:
        if self._inflight:
            log.info(
                "waiting up to %.0fs for %d event(s) in progress",
                self._options.shutdown_timeout,
                len(self._inflight),
            )
            await asyncio.wait(
                list(self._inflight.values()), timeout=self._options.shutdown_timeout
            )
        unfinished = list(self._inflight)
        for task in list(self._inflight.values()):
            task.cancel()
        for task in list(self._inflight.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            await self._flush()
            if unfinished:
                log.warning("released %d unfinished event(s) for a later run", len(unfinished))
                await self._store.release(self._options.worker_id, unfinished, self._clock())
        except STORE_ERRORS as exc:
            log.error("inbox unavailable at shutdown (%s): held rows return when leases end", exc)
