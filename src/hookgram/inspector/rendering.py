"""Jinja2 templates of the inspector (package files), autoescaped: row data is shown as text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2
from aiohttp import web

BASE = "/inspector"


def when(timestamp: float | None) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM:SS.mmm`` in UTC; a dash when unknown."""
    if timestamp is None:
        return "–"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def iso(timestamp: float | None) -> str:
    """A Unix time in ISO 8601 (UTC), for ``<time datetime>``."""
    return "" if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


def duration(seconds: float) -> str:
    """``12 ms`` or ``3.4 s``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class Templates:
    """Renders the inspector's pages and fragments."""

    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.PackageLoader("hookgram.inspector", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(when=when, iso=iso, duration=duration)
        self._env.globals["base"] = BASE

    def render(self, name: str, *, status: int = 200, **context: Any) -> web.Response:
        """An HTML response from template ``name``."""
        html = self._env.get_template(name).render(**context)
        return web.Response(status=status, text=html, content_type="text/html", charset="utf-8")
