"""Medians, same-run ratios, the targets, and the markdown tables, from a run's JSON results.

`python -m bench.report results.json` prints the tables again (for docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.targets import CEILING, HOOKGRAM, REFERENCE

Row = dict[str, Any]

# (name, metric, which ratio, bound, at least?) — issue 9's targets at 100 connections.
TARGETS: tuple[tuple[str, str, str, float, bool], ...] = (
    ("acks/s ≥ 5× reference", "acks_per_s", REFERENCE, 5.0, True),
    ("p99 ack latency ≤ 0.25× reference", "p99_ms", REFERENCE, 0.25, False),
    ("replies/s ≥ 1.5× reference", "replies_per_s", REFERENCE, 1.5, True),
    ("acks/s ≥ 0.3× ceiling", "acks_per_s", CEILING, 0.3, True),
)
BURST_TARGETS: tuple[tuple[str, str, float], ...] = (
    ("burst drain time ≤ 0.7× reference", "drain_seconds", 0.7),
    ("burst RSS growth ≤ 0.2× reference's growth", "growth_mib", 0.2),
    ("burst peak RSS ≤ 0.65× reference", "peak_rss_mib", 0.65),
)
TARGET_CONNECTIONS = 100


def median(values: Iterable[float | None]) -> float | None:
    """The median of the known values, or None."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def ratio_median(
    rows: Sequence[Row], metric: str, base: Any, *, key: str = "server", of: Any = HOOKGRAM
) -> float | None:
    """Median over repetitions of ``of``'s ``metric`` / ``base``'s, pairing same-run rows."""
    ratios = []
    for repetition in sorted({r["repetition"] for r in rows}):
        pair = {r[key]: r[metric] for r in rows if r["repetition"] == repetition}
        mine, other = pair.get(of), pair.get(base)
        if mine is not None and other:
            ratios.append(mine / other)
    return median(ratios)


def summarise(results: Row) -> Row:
    """Medians per (server, connections), burst medians, ratios and target verdicts."""
    sustained, bursts = results["sustained"], results["burst"]
    for row in bursts:
        row["growth_mib"] = row["peak_rss_mib"] - row["idle_rss_mib"]
    servers = results["config"]["servers"]
    table = []
    for connections in results["config"]["connections"]:
        for server in servers:
            rows = [
                r for r in sustained if r["server"] == server and r["connections"] == connections
            ]
            if rows:
                table.append(_medians(rows, server, connections, sustained))
    burst_table = [_burst_medians(server, bursts) for server in servers if _of(bursts, server)]
    workers = results.get("workers", [])
    return {
        "sustained": table,
        "burst": burst_table,
        "targets": _verdicts(sustained, bursts),
        "workers": [_workers_medians(n, workers) for n in sorted({r["workers"] for r in workers})],
    }


def _of(rows: Sequence[Row], server: str) -> list[Row]:
    return [r for r in rows if r["server"] == server]


def _medians(rows: Sequence[Row], server: str, connections: int, every: Sequence[Row]) -> Row:
    metrics = ("acks_per_s", "p50_ms", "p99_ms", "replies_per_s", "backlog_at_end")
    row: Row = {"server": server, "connections": connections}
    row.update({m: median(r[m] for r in rows) for m in metrics})
    row["idle_rss_mib"] = median(r["idle_rss_mib"] for r in rows)
    row["peak_rss_mib"] = median(r["peak_rss_mib"] for r in rows)
    row["load_average"] = median(r["load_average"] for r in rows)
    row["cpu_share"] = median(r.get("cpu_share") for r in rows)
    if server == HOOKGRAM:
        at = [r for r in every if r["connections"] == connections]
        row["vs_reference"] = {m: ratio_median(at, m, REFERENCE) for m in metrics[:4]}
        row["vs_ceiling"] = {"acks_per_s": ratio_median(at, "acks_per_s", CEILING)}
    return row


def _burst_medians(server: str, bursts: Sequence[Row]) -> Row:
    rows = _of(bursts, server)
    metrics = (
        "acked",
        "ack_seconds",
        "drain_seconds",
        "idle_rss_mib",
        "peak_rss_mib",
        "growth_mib",
    )
    row: Row = {"server": server, **{m: median(r[m] for r in rows) for m in metrics}}
    row["load_average"] = median(r["load_average"] for r in rows)
    row["drained"] = all(r.get("drained") is not False for r in rows)
    if server == HOOKGRAM:
        row["vs_reference"] = {
            m: ratio_median(bursts, m, REFERENCE)
            for m in ("drain_seconds", "growth_mib", "peak_rss_mib")
        }
    return row


def _workers_medians(count: int, every: Sequence[Row]) -> Row:
    rows = [r for r in every if r["workers"] == count]
    rates = [r["rate"] for r in rows if r["rate"] is not None]
    metrics = (
        "rate",
        "worker_cpu_ms_per_update",
        "peak_rss_mib",
        "receiver_acks_per_s",
        "load_average",
    )
    return {
        "workers": count,
        "backlog": rows[0]["backlog"],
        **{m: median(r[m] for r in rows) for m in metrics},
        "rate_min": min(rates, default=None),
        "rate_max": max(rates, default=None),
        "vs_one_worker": ratio_median(every, "rate", 1, key="workers", of=count),
        "drained": all(r["drained"] for r in rows),
    }


def _verdicts(sustained: Sequence[Row], bursts: Sequence[Row]) -> list[Row]:
    at = [r for r in sustained if r["connections"] == TARGET_CONNECTIONS]
    verdicts = []
    for name, metric, base, bound, at_least in TARGETS:
        verdicts.append(_verdict(name, ratio_median(at, metric, base), bound, at_least))
    for name, metric, bound in BURST_TARGETS:
        value = ratio_median(bursts, metric, REFERENCE)
        verdict = _verdict(name, value, bound, False)
        cut_off = any(r.get("drained") is False for r in _of(bursts, REFERENCE))
        if metric == "drain_seconds" and cut_off:
            # The reference's drain is a lower bound, so the ratio is an upper bound: it can
            # prove the target met, never missed.
            verdict["upper_bound"] = True
            verdict["met"] = True if verdict["met"] else None
        verdicts.append(verdict)
    return verdicts


def _verdict(name: str, value: float | None, bound: float, at_least: bool) -> Row:
    met = None if value is None else (value >= bound if at_least else value <= bound)
    return {"target": name, "ratio": value, "bound": bound, "met": met}


def markdown(results: Row) -> str:
    """The tables of docs/performance.md: the servers side by side, and the workers."""
    sections = []
    if results["sustained"] or results["burst"]:
        sections.append(_comparison(results))
    if results["summary"].get("workers"):
        sections.append(_workers(results))
    return "\n\n".join(sections)


def _comparison(results: Row) -> str:
    summary = results["summary"]
    lines = [
        "| server | conns | acks/s | p50 / p99 ms | replies/s | backlog@end | RSS idle→peak MiB "
        "| ×reference (acks · p99 · replies) | ×ceiling (acks) | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in summary["sustained"]:
        lines.append(_sustained_line(row))
    lines += [
        "",
        f"Burst: {results['config']['burst']:,} updates over {results['config']['burst_chats']} "
        f"chats, {results['config']['burst_connections']} connections.",
        "",
        "| server | acked in s | last reply after s | RSS idle→peak MiB | growth MiB "
        "| ×reference (drain · growth · peak) | load |",
        # ">" marks a drain cut off by --drain-timeout: the true time is longer.
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in summary["burst"]:
        lines.append(_burst_line(row))
    lines += [
        "",
        "| target (at 100 connections, medians of same-run ratios) | ratio | met |",
        "| --- | --- | --- |",
    ]
    for verdict in summary["targets"]:
        met = {True: "yes", False: "**no**", None: "unknown"}[verdict["met"]]
        bound = "≤ " if verdict.get("upper_bound") else ""
        lines.append(f"| {verdict['target']} | {bound}{_num(verdict['ratio'], 2)} | {met} |")
    return "\n".join(lines)


def _sustained_line(row: Row) -> str:
    ceiling = row.get("vs_ceiling")
    versus = _versus(row, ("acks_per_s", "p99_ms", "replies_per_s"))
    return (
        f"| {row['server']} | {row['connections']} | {_num(row['acks_per_s'])} "
        f"| {_num(row['p50_ms'], 1)} / {_num(row['p99_ms'], 1)} | {_num(row['replies_per_s'])} "
        f"| {_num(row['backlog_at_end'])} "
        f"| {_num(row['idle_rss_mib'])}→{_num(row['peak_rss_mib'])} "
        f"| {versus} | {'–' if ceiling is None else _num(ceiling['acks_per_s'], 2)} "
        f"| {_num(row['load_average'], 1)} |"
    )


def _versus(row: Row, metrics: tuple[str, ...]) -> str:
    """The row's ratios to the reference for ``metrics``, "a · b · c", or "–" for others."""
    ref = row.get("vs_reference")
    return "–" if ref is None else " · ".join(_num(ref[m], 2) for m in metrics)


def _burst_line(row: Row) -> str:
    versus = _versus(row, ("drain_seconds", "growth_mib", "peak_rss_mib"))
    return (
        f"| {row['server']} | {_num(row['ack_seconds'], 1)} "
        f"| {'>' if row['drain_seconds'] is not None and not row['drained'] else ''}"
        f"{_num(row['drain_seconds'], 1)} "
        f"| {_num(row['idle_rss_mib'])}→{_num(row['peak_rss_mib'])} | {_num(row['growth_mib'])} "
        f"| {versus} | {_num(row['load_average'], 1)} |"
    )


def _workers(results: Row) -> str:
    config = results["config"]["workers"]
    lines = [
        f"Workers: {config['backlog']:,} updates over {config['chats']:,} chats on PostgreSQL, "
        f"posted through one receiver ({config['connections']} connections), then drained by "
        "N `hookgram worker` processes.",
        "",
        "| workers | backlog | processing rate updates/s (min–max) | × one worker "
        "| worker CPU ms/update | peak RSS per worker MiB | receiver acks/s | load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in results["summary"]["workers"]:
        lines.append(
            f"| {row['workers']} | {row['backlog']:,}{'' if row['drained'] else ' (not drained)'} "
            f"| {_num(row['rate'])} ({_num(row['rate_min'])}–{_num(row['rate_max'])}) "
            f"| {_num(row['vs_one_worker'], 2)} | {_num(row['worker_cpu_ms_per_update'], 2)} "
            f"| {_num(row['peak_rss_mib'])} | {_num(row['receiver_acks_per_s'])} "
            f"| {_num(row['load_average'], 1)} |"
        )
    return "\n".join(lines)


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def main() -> None:
    """Print the tables of a results file."""
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", type=Path, help="the JSON file bench.run wrote")
    options = parser.parse_args()
    results = json.loads(options.results.read_text())
    results["summary"] = summarise(results)
    print(markdown(results))


if __name__ == "__main__":
    main()
