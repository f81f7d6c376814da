"""python-telegram-bot's webhook echo bot: `Application.run_webhook` with concurrent updates.

`MessageHandler(TEXT & ~COMMAND)` answering `reply_text`, `concurrent_updates(True)`, the Bot
API's base URL at the emulator, uvloop as the event loop.
`python -m bench.servers.ptb_echo --port P --secret S --token T --api URL`
"""

from __future__ import annotations

import argparse
import asyncio

import uvloop
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a text message with its own text."""
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


def main() -> None:
    """Set the webhook (PTB does it in run_webhook), then serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers.ptb_echo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--path", default="/webhook")
    options = parser.parse_args()
    asyncio.set_event_loop(uvloop.new_event_loop())
    application = (
        ApplicationBuilder()
        .token(options.token)
        .base_url(f"{options.api}/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_webhook(
        listen=options.host,
        port=options.port,
        url_path=options.path.lstrip("/"),
        secret_token=options.secret,
        webhook_url=f"https://bench.example.com{options.path}",
    )


if __name__ == "__main__":
    main()
