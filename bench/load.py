"""Load from wrk: a Lua script posting realistic Updates with unique update_ids."""

from __future__ import annotations

import json
import signal
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WRONG_SECRET = "not-the-secret"
_MARK = "BENCH_RESULT "
_STOP = "BENCH_LIMIT_REACHED"

# A text message with a mention and a URL entity, as Telegram posts it (~450 bytes).
UPDATE_TEMPLATE = (
    '{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,'
    '"first_name":"Bench","last_name":"User","username":"bench_user","language_code":"en"},'
    '"chat":{"id":%d,"first_name":"Bench","last_name":"User","username":"bench_user",'
    '"type":"private"},"date":1700000000,'
    '"text":"hello @hookgram_test_bot, see https://example.com/page for the details",'
    '"entities":[{"offset":6,"length":18,"type":"mention"},'
    '{"offset":30,"length":24,"type":"url"}]}}'
)

_SCRIPT = """
local counter, ok = 0, 0
local first, chats, limit = %(first)d, %(chats)d, %(limit)d
local template = '%(template)s'
local good = {["Content-Type"] = "application/json", ["%(header)s"] = "%(secret)s"}
local bad = {["Content-Type"] = "application/json", ["%(header)s"] = "%(wrong)s"}

function request()
  counter = counter + 1
  local chat = 1000000 + (counter %% chats)
  local headers = good
  -- Past the limit (burst mode) every request is refused by the secret check, so nothing
  -- beyond the limit is processed while the last in-flight requests come back. wrk calls
  -- request() once before connecting to check the script and drops that request: one spare.
  if limit > 0 and counter > limit + 1 then headers = bad end
  return wrk.format("POST", "%(path)s", headers,
                    string.format(template, first + counter, counter, chat, chat))
end
%(response)s
function done(summary, latency, requests)
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"non2xx":%%d,"connect":%%d,"read":%%d,' ..
    '"write":%%d,"timeout":%%d,"p50_us":%%d,"p99_us":%%d}\\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""

_STOP_AT_LIMIT = """
function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    if ok == limit then
      -- wrk's main thread sleeps for the whole -d; the runner answers this line with SIGINT.
      io.write("%(stop)s\\n")
      io.flush()
      wrk.thread:stop()
    end
  end
end
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What wrk measured: acknowledged (2xx) requests, their rate and latency."""

    acked: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def acks_per_second(self) -> float:
        """Acknowledged requests per second of the run."""
        return self.acked / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk invocation against a webhook URL."""

    url: str
    secret: str
    connections: int
    first_update_id: int
    chats: int
    cpu: int | None

    def run(self, seconds: float, *, limit: int = 0, timeout: float = 5.0) -> LoadResult:
        """Post for ``seconds`` (or, with ``limit``, until that many updates were acked)."""
        with tempfile.TemporaryDirectory(prefix="hookgram-bench-") as folder:
            script = Path(folder) / "updates.lua"
            script.write_text(self._script(limit))
            command = [
                "wrk",
                "-t1",
                f"-c{self.connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={timeout:g}s",
                "-s",
                str(script),
                self.url,
            ]
            output = _run(_pinned(command, self.cpu), seconds + 60)
        return _parse(output)

    def _script(self, limit: int) -> str:
        path = "/" + self.url.split("/", 3)[3] if self.url.count("/") >= 3 else "/"
        return _SCRIPT % {
            "first": self.first_update_id,
            "chats": self.chats,
            "limit": limit,
            "template": UPDATE_TEMPLATE,
            "header": SECRET_HEADER,
            "secret": self.secret,
            "wrong": WRONG_SECRET,
            "path": path,
            "response": _STOP_AT_LIMIT.replace("%(stop)s", _STOP) if limit else "",
            "mark": _MARK,
        }


def _pinned(command: list[str], cpu: int | None) -> list[str]:
    return command if cpu is None else ["taskset", "-c", str(cpu), *command]


def _run(command: Sequence[str], timeout: float) -> str:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.strip() == _STOP:
                process.send_signal(signal.SIGINT)
        stderr = process.stderr.read() if process.stderr is not None else ""
        returncode = process.wait()
    finally:
        timer.cancel()
    output = "".join(lines)
    if returncode != 0 or _MARK not in output:
        raise RuntimeError(f"wrk failed ({returncode}): {stderr or output}")
    return output


def _parse(output: str) -> LoadResult:
    line = next(line for line in output.splitlines() if line.startswith(_MARK))
    data = json.loads(line[len(_MARK) :])
    return LoadResult(
        acked=int(data["requests"]) - int(data["non2xx"]),
        seconds=data["duration_us"] / 1e6,
        non2xx=int(data["non2xx"]),
        socket_errors=sum(int(data[k]) for k in ("connect", "read", "write", "timeout")),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
