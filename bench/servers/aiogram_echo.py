"""The reference: aiogram's webhook echo bot as in its examples/echo_bot_webhook.py.

`SimpleRequestHandler` with its default `handle_in_background=True`, the same echo handler
(`message.send_copy`), the Bot API pointed at the emulator; no INFO logging (the example's
`logging.basicConfig` is left out, as in the baseline). Run on uvloop like every server here.
`python -m bench.servers.aiogram_echo --port P --secret S --token T --api URL`
"""

from __future__ import annotations

import argparse

import uvloop
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

router = Router()


@router.message()
async def echo_handler(message: Message) -> None:
    """Send a copy of the received message back to the sender (aiogram's example)."""
    try:
        await message.send_copy(chat_id=message.chat.id)
    except TypeError:
        await message.answer("Nice try!")


def main() -> None:
    """Set the webhook at start-up, then serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.servers.aiogram_echo")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--path", default="/webhook")
    options = parser.parse_args()

    async def on_startup(bot: Bot) -> None:
        await bot.set_webhook(
            f"https://bench.example.com{options.path}", secret_token=options.secret
        )

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    dispatcher.startup.register(on_startup)
    bot = Bot(
        token=options.token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(options.api)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    app = web.Application()
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=options.secret).register(
        app, path=options.path
    )
    setup_application(app, dispatcher, bot=bot)
    web.run_app(app, host=options.host, port=options.port, print=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
