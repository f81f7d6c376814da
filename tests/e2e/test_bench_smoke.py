"""The benchmark, run once in its tiny mode so it cannot rot (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.targets import ALL

ROOT = Path(__file__).resolve().parents[2]
SUSTAINED_COLUMNS = {
    "acks_per_s",
    "p50_ms",
    "p99_ms",
    "replies_per_s",
    "backlog_at_end",
    "idle_rss_mib",
    "peak_rss_mib",
    "cpu_share",
}
BURST_COLUMNS = {"acked", "ack_seconds", "drain_seconds", "idle_rss_mib", "peak_rss_mib"}


def python_module(*argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m ARGV` from the repository root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class TestBenchSmoke:
    def test_tiny_run_reports_every_server_and_column(self, tmp_path: Path) -> None:
        """`python -m bench.run --tiny` completes and reports every server, row and column."""
        output = tmp_path / "results.json"
        done = python_module("bench.run", "--tiny", "--output", str(output), timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(output.read_text())

        sustained = {(r["server"], r["connections"]): r for r in results["summary"]["sustained"]}
        assert set(sustained) == {(s, c) for s in ALL for c in (40, 100)}
        for row in sustained.values():
            assert set(row) >= SUSTAINED_COLUMNS
            assert row["acks_per_s"] > 0
        assert {s for s, _ in sustained if sustained[s, 100]["replies_per_s"] is not None} == {
            "hookgram",
            "aiogram",
            "ptb",
        }
        bursts = {r["server"]: r for r in results["burst"]}
        assert set(bursts) == set(ALL)
        for row in bursts.values():
            assert set(row) >= BURST_COLUMNS
            assert row["acked"] == results["config"]["burst"]
        assert bursts["hookgram"]["drained"]
        assert bursts["hookgram"]["replies"] >= 100
        assert {v["target"] for v in results["summary"]["targets"]} >= {
            "acks/s ≥ 5× reference",
            "acks/s ≥ 0.3× ceiling",
        }
        for server in ALL:
            assert f"| {server} | 100 |" in done.stdout

    def test_tiny_workers_run_drains_with_each_worker_count(self, tmp_path: Path) -> None:
        """`--tiny --workers 1,2` drains a backlog on throwaway PostgreSQL by 1, then 2 workers."""
        output = tmp_path / "results.json"
        done = python_module(
            "bench.run", "--tiny", "--workers", "1,2", "--output", str(output), timeout=180
        )
        assert done.returncode == 0, done.stderr[-3000:]
        results = json.loads(output.read_text())

        assert results["sustained"] == results["burst"] == []
        rows = {row["workers"]: row for row in results["workers"]}
        assert set(rows) == {1, 2}
        for row in rows.values():
            assert row["rate"] > 0
            assert row["drained"] is True
            assert row["replies"] == row["acked"] == row["backlog"]
            assert row["worker_cpu_ms_per_update"] > 0
        assert [row["workers"] for row in results["summary"]["workers"]] == [1, 2]
        assert "| 2 | 500 |" in done.stdout

    def test_workers_on_sqlite_is_a_one_line_error(self, tmp_path: Path) -> None:
        """`--workers` with a SQLite database exits with one line asking for PostgreSQL."""
        done = python_module(
            "bench.run",
            "--workers",
            "1,2",
            "--database-url",
            f"sqlite:///{tmp_path / 'inbox.db'}",
            timeout=60,
        )
        assert done.returncode == 1
        assert done.stderr.strip().count("\n") == 0
        assert "several worker processes need PostgreSQL" in done.stderr

    def test_floor_reports_aiogram_cost_per_update(self) -> None:
        """`python -m bench.floor` answers every update it feeds and reports its CPU cost."""
        done = python_module("bench.floor", "--updates", "300", timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        result = json.loads(done.stdout)
        assert result["updates"] == 270  # the first tenth warms up
        assert result["updates_per_s"] > 0
        assert result["cpu_ms_per_update"] > 0

    def test_ack_cost_measures_each_server_and_the_durable_commit(self) -> None:
        """`python -m bench.ack_cost` loads the ceiling, the ingress and the durable variant; only
        the durable one commits, through the SQLite writer thread (a second busy thread)."""
        done = python_module("bench.ack_cost", "--seconds", "1", "--repetitions", "1", timeout=180)
        assert done.returncode == 0, done.stderr[-3000:]
        lines = done.stdout.splitlines()
        runs = {r["variant"]: r for r in map(json.loads, lines[:3])}
        assert set(runs) == {"ceiling", "ingress", "durable"}
        for run in runs.values():
            assert run["acks_per_s"] > 0
            assert run["cpu_ms_per_ack"] > 0
        assert len(runs["durable"]["threads_ms_per_ack"]) >= 2
        differences = json.loads(lines[-1])
        assert set(differences) == {"ingress_minus_ceiling_ms", "durable_minus_ingress_ms"}
