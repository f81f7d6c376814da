"""The ceiling: a bare aiohttp handler that checks the secret, parses the JSON and answers 200.

`python -m bench.servers.ceiling --port P --secret S` (no Bot API calls, no storage).
"""

from __future__ import annotations

import argparse
import hmac
import json

import uvloop
from aiohttp import web

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build(secret: str, path: str) -> web.Application:
    """The application: one POST route."""
    expected = secret.encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401)
        json.loads(await request.read())
        return web.Response(text="{}", content_type="application/json")

    app = web.Application()
    app.router.add_post(path, receive)
    return app


def main() -> None:
    """Serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers.ceiling")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--path", default="/webhook")
    options = parser.parse_args()
    web.run_app(
        build(options.secret, options.path),
        host=options.host,
        port=options.port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
