"""aiogram objects bound to their bot directly: the same objects as pydantic's generic set-up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.context_controller import BotContextController
from aiogram.methods import SendMessage
from aiogram.types import Chat, Message, TelegramObject, Update, User
from pydantic import PrivateAttr

from hookgram.bot_context import streamline_bot_context

UPDATE = (
    '{"update_id":7,"message":{"message_id":3,"date":1700000000,"text":"hi",'
    '"from":{"id":42,"is_bot":false,"first_name":"Ada"},'
    '"chat":{"id":42,"type":"private","first_name":"Ada"}}}'
)


class Note(TelegramObject):
    """An app's own aiogram type with no private attributes of its own."""

    text: str


class Tagged(TelegramObject):
    """An app's own aiogram type with a private attribute of its own."""

    text: str
    _tag: str = PrivateAttr(default="kept")


class Counted(TelegramObject):
    """An app's own aiogram type with its own ``model_post_init``."""

    text: str
    _seen: int = PrivateAttr(default=0)

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        self._seen += 1


@pytest.fixture(scope="module")
def bot() -> Bot:
    return Bot("123456:TEST-TOKEN")


@pytest.fixture(scope="module", autouse=True)
def streamlined() -> None:
    streamline_bot_context()  # the service may have called it already in this process


def aiogram_classes() -> list[type[BotContextController]]:
    found: list[type[BotContextController]] = []
    stack: list[type[BotContextController]] = [BotContextController]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("aiogram."):
            found.append(cls)
    return found


def is_direct(cls: type[BotContextController]) -> bool:
    """Whether ``cls`` sets up ``_bot`` without pydantic's wrapper (which sets ``__wrapped__``)."""
    return not hasattr(cls.model_post_init, "__wrapped__")


def test_every_aiogram_type_and_method_binds_its_bot_directly() -> None:
    assert all(is_direct(cls) for cls in (Update, Message, User, Chat, SendMessage, Note))
    classes = aiogram_classes()
    assert len(classes) > 500  # every type and method, not only those of an echo update
    assert [cls for cls in classes if not is_direct(cls)] == []


def test_a_second_call_changes_nothing() -> None:
    assert streamline_bot_context() == 0


def test_classes_with_a_set_up_of_their_own_keep_pydantics(bot: Bot) -> None:
    assert not is_direct(Tagged)
    assert not is_direct(Counted)
    tagged = Tagged.model_validate({"text": "a"}, context={"bot": bot})
    assert (tagged.bot, tagged._tag) == (bot, "kept")
    counted = Counted.model_validate({"text": "b"}, context={"bot": bot})
    assert (counted.bot, counted._seen) == (bot, 1)


def test_a_class_defined_afterwards_keeps_its_own_private_attributes(bot: Bot) -> None:
    class Later(Note):
        _mood: str = PrivateAttr(default="calm")

    later = Later.model_validate({"text": "c"}, context={"bot": bot})
    assert (later.bot, later._mood, later.text) == (bot, "calm", "c")


def test_every_object_of_a_validated_update_has_the_bot(bot: Bot) -> None:
    update = Update.model_validate_json(UPDATE, context={"bot": bot})
    message = update.message
    assert message is not None
    assert message.from_user is not None
    assert update.bot is message.bot is message.chat.bot is message.from_user.bot is bot
    assert Update.model_validate_json(UPDATE).bot is None


def test_objects_compare_copy_and_dump_as_before(bot: Bot) -> None:
    update = Update.model_validate_json(UPDATE, context={"bot": bot})
    assert update == Update.model_validate_json(UPDATE, context={"bot": bot})
    assert update.model_copy().bot is bot
    dumped = update.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert dumped == json.loads(UPDATE)
    other = Bot("654321:OTHER-TOKEN")
    assert update.as_(other).bot is other
    assert Chat.model_construct(id=1, type="private").bot is None


def test_methods_built_by_a_handler_have_no_bot_until_bound(bot: Bot) -> None:
    method = SendMessage(chat_id=42, text="hi")
    assert method.bot is None
    assert method.as_(bot).bot is bot
