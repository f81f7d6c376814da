"""``hookgram events``: list, show, replay and retry stored events (Telegram updates included)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from hookgram.cli.options import reports_errors, run_async, setting_options, settings_from
from hookgram.config import Settings
from hookgram.errors import HookgramError
from hookgram.inbox.engine import create_engine
from hookgram.inbox.models import Attempt, Event, Status
from hookgram.inbox.schema import prepare as prepare_schema
from hookgram.inbox.store import InboxStore
from hookgram.inbox.views import attempt_record, event_record, pretty_body, summary
from hookgram.redaction import Redactor

STATUSES = [s.value for s in Status]


@click.group()
def events() -> None:
    """Look at stored events and run them again."""


@events.command("list")
@click.option("--source", default=None, help="only this source (telegram, or a [[sources]] name)")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="only this status")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@setting_options("database_url")
@reports_errors
def list_events(
    source: str | None, status: str | None, limit: int, config_file: Path | None, **flags: Any
) -> None:
    """The newest events first: id, time received, source, status, attempts, summary."""
    settings = settings_from(config_file, **flags)

    async def main(store: InboxStore) -> list[Event]:
        return await store.list(
            source=source, status=None if status is None else Status(status), limit=limit
        )

    rows = run_async(_with_store(settings, main))
    echo = _echo(settings)
    echo(f"{'ID':>8}  {'RECEIVED':19}  {'SOURCE':12}  {'STATUS':10}  {'TRIES':>5}  SUMMARY")
    for e in rows:
        echo(
            f"{e.id:>8}  {_when(e.received_at):19}  {e.source:12}  {e.status.value:10}  "
            f"{e.attempts:>5}  {summary(e)}"
        )


@events.command()
@click.argument("event_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object instead")
@setting_options("database_url")
@reports_errors
def show(event_id: int, as_json: bool, config_file: Path | None, **flags: Any) -> None:
    """One event: headers (secrets redacted), the pretty body, every attempt, the last error."""
    settings = settings_from(config_file, **flags)

    async def main(store: InboxStore) -> tuple[Event, list[Attempt]]:
        event = await _existing(store, event_id)
        return event, await store.attempts_of(event_id)

    event, attempts = run_async(_with_store(settings, main))
    record = event_record(event, _secret_headers(settings, event.source))
    echo = _echo(settings)
    if as_json:
        record["attempts"] = [attempt_record(a) for a in attempts]
        echo(json.dumps(record, indent=2, ensure_ascii=False))
        return
    _print_event(echo, event, record, attempts)


def _print_event(
    echo: Callable[[str], None], event: Event, record: dict[str, Any], attempts: list[Attempt]
) -> None:
    echo(f"event {event.id} · {event.source} · {event.status.value} · {summary(event)}")
    for label, value in (
        ("received", _when(event.received_at)),
        ("dedup key", event.dedup_key),
        ("ordering", event.ordering_key or "-"),
        ("last error", event.last_error or "-"),
    ):
        echo(f"  {label:10} {value}")
    echo("headers")
    for name, value in record["headers"].items():
        echo(f"  {name}: {value}")
    echo("body")
    echo(pretty_body(event))
    echo(f"attempts ({len(attempts)})")
    for a in attempts:
        took = a.finished_at - a.started_at
        echo(f"  {a.number}. {_when(a.started_at)}  {a.outcome.value:8} {took:.2f}s  {a.worker}")
        if a.error:
            echo(f"     {a.error}")


@events.command()
@click.argument("event_id", type=int)
@click.option(
    "--now",
    "right_here",
    is_flag=True,
    help="process it here with a worker in burst mode (no server needed; needs BOT_TOKEN)",
)
@click.option("--app", default=None, help="with --now: the APP a Telegram update is fed to")
@setting_options("database_url", "api_url")
@reports_errors
def replay(
    event_id: int, right_here: bool, app: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Run an event's handler again (notifications go to every chat again)."""
    settings = settings_from(config_file, **flags)

    async def main(store: InboxStore) -> str:
        await _existing(store, event_id)
        if not await store.requeue(time.time(), ids=[event_id], forget_deliveries=True):
            raise HookgramError(
                f"event {event_id} is being processed right now; replay it once it is finished"
            )
        if not right_here:
            return f"event {event_id} queued again; a running worker will process it"
        await _burst(settings, app, store)
        event = await _existing(store, event_id)
        error = f": {event.last_error}" if event.last_error else ""
        return f"event {event_id} processed here: {event.status.value}{error}"

    _echo(settings)(run_async(_with_store(settings, main)))


@events.command()
@click.option("--dead", is_flag=True, help="retry the dead events")
@click.option("--failed", is_flag=True, help="retry the failed events")
@click.option("--source", default=None, help="only this source")
@setting_options("database_url")
@reports_errors
def retry(
    dead: bool, failed: bool, source: str | None, config_file: Path | None, **flags: Any
) -> None:
    """Queue dead (or failed) events again; a worker retries them, skipping chats reached."""
    if not dead and not failed:
        raise click.UsageError("say which events to retry: --dead, --failed or both")
    settings = settings_from(config_file, **flags)
    wanted = [s for s, chosen in ((Status.DEAD, dead), (Status.FAILED, failed)) if chosen]

    async def main(store: InboxStore) -> int:
        now = time.time()
        counts = [await store.requeue(now, source=source, status=s) for s in wanted]
        return sum(counts)

    count = run_async(_with_store(settings, main))
    which = " or ".join(s.value for s in wanted)
    scope = f" of source {source}" if source else ""
    _echo(settings)(f"{count} {which} event(s){scope} queued again; a worker will process them")


async def _with_store(settings: Settings, work: Callable[[InboxStore], Any]) -> Any:
    async with _store(settings) as store:
        return await work(store)


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[InboxStore]:
    engine = create_engine(settings.database_url)
    try:
        await prepare_schema(engine, migrate=False)  # a stale schema is refused, not upgraded
        store = InboxStore(engine)
        try:
            yield store
        finally:
            await store.close()
    finally:
        await engine.dispose()


async def _existing(store: InboxStore, event_id: int) -> Event:
    event = await store.get(event_id)
    if event is None:
        raise HookgramError(f"there is no event {event_id} (hookgram events list shows them)")
    return event


async def _burst(settings: Settings, app: str | None, store: InboxStore) -> None:
    """A worker in burst mode: processes what is due, this event included, then returns."""
    from hookgram.service import start_worker

    async with AsyncExitStack() as stack:
        worker, _ = await start_worker(settings, app, store, Redactor(settings.secrets()), stack)
        await worker.run_until_empty()


def _secret_headers(settings: Settings, source: str) -> frozenset[str]:
    from hookgram.sources.schemes import build_scheme

    for config in settings.sources:
        if config.name == source:
            return build_scheme(config).secret_headers
    return frozenset()


def _echo(settings: Settings) -> Callable[[str], None]:
    """``click.echo`` with every known secret masked."""
    redact = Redactor(settings.secrets())
    return lambda text: click.echo(redact(text))


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")
