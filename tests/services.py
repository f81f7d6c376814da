"""Throwaway PostgreSQL and Redis servers on free loopback ports, for tests and the benchmark.

Each runs from Debian's packages (``postgresql``, ``redis-server``; ``scripts/test`` installs
them) with a data directory of its own, and is stopped and removed on exit::

    with postgres_server(Path(tmp)) as url:   # postgresql://postgres@127.0.0.1:PORT/postgres
        ...
    with redis_server(Path(tmp)) as url:      # redis://127.0.0.1:PORT/0
        ...

PostgreSQL refuses to run as root: as root, ``initdb`` and ``postgres`` run as the
``postgres`` user (set in the child, so signals reach ``postgres`` itself); ``tmpdir`` is
made searchable for it, and its parents must be (anything under /tmp is, pytest's
``tmp_path`` is not). Durability is off (``fsync=off``): the data is thrown away anyway.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0
INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--no-sync", "--no-instructions")
POSTGRES_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}
REDIS_OPTIONS = ("--save", "", "--appendonly", "no", "--daemonize", "no")


class ServiceError(RuntimeError):
    """A server could not be started; the message carries its log."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's binaries directory."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise ServiceError("PostgreSQL is not installed: run ./scripts/test as root once")
    return found[-1]


@contextlib.contextmanager
def postgres_server(tmpdir: Path, **settings: str) -> Iterator[str]:
    """A PostgreSQL server of its own; yields its URL (superuser ``postgres``, no password).

    ``settings`` override the server's (``fsync="on"`` for a benchmark that should pay for
    durability, ``max_connections="500"``...).
    """
    binaries = postgres_bin()
    root = tmpdir / "postgres"
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir(parents=True)
    as_user = _postgres_user(root)
    _check(
        [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", *INITDB_OPTIONS],
        "initdb",
        as_user,
    )
    port = free_port()
    config = {
        **POSTGRES_SETTINGS,
        **settings,
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(sockets),
    }
    options = [arg for key, value in config.items() for arg in ("-c", f"{key}={value}")]
    log = (root / "postgres.log").open("wb")
    process = subprocess.Popen(
        [str(binaries / "postgres"), "-D", str(data), *options],
        stdout=log,
        stderr=subprocess.STDOUT,
        **as_user,
    )
    try:
        _wait_until(lambda: _pg_ready(binaries, port), process, root / "postgres.log", "PostgreSQL")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        _stop(process, fast_signal=2)  # SIGINT: PostgreSQL's "fast" shutdown
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server(tmpdir: Path) -> Iterator[str]:
    """A Redis server of its own, persisting nothing; yields its URL."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise ServiceError("redis-server is not installed: run ./scripts/test as root once")
    root = tmpdir / "redis"
    root.mkdir(parents=True)
    port = free_port()
    log = (root / "redis.log").open("wb")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root), *REDIS_OPTIONS],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until(lambda: _redis_ready(port), process, root / "redis.log", "Redis")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process, fast_signal=15)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _postgres_user(root: Path) -> dict[str, Any]:
    """Popen arguments that run PostgreSQL's programs as a user it accepts (not root)."""
    if os.geteuid() != 0:
        return {"cwd": root}
    user = pwd.getpwnam("postgres")
    root.parent.chmod(root.parent.stat().st_mode | 0o711)
    for path in (root, *root.iterdir()):
        os.chown(path, user.pw_uid, user.pw_gid)
    return {"cwd": root, "user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _check(command: list[str], what: str, popen: dict[str, Any]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **popen)
    if result.returncode != 0:
        raise ServiceError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _pg_ready(binaries: Path, port: int) -> bool:
    command = [str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(command, check=False).returncode == 0


def _redis_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, name: str
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if ready():
            return
        time.sleep(0.1)
    _stop(process, fast_signal=9)
    output = log.read_text(errors="replace") if log.exists() else ""
    raise ServiceError(f"{name} did not start within {START_TIMEOUT:.0f}s:\n{output}")


def _stop(process: subprocess.Popen[bytes], *, fast_signal: int) -> None:
    if process.poll() is None:
        process.send_signal(fast_signal)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
