"""Telegram's MarkdownV2 parse mode in the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from hookgram.sandbox.markdown import parse_markdown_v2
from hookgram.sandbox.replies import APIError


class TestMarkdownV2:
    @pytest.mark.parametrize(
        ("source", "text", "entities"),
        [
            (
                "*b* _i_ __u__ ~s~ ||p||",
                "b i u s p",
                [
                    {"type": "bold", "offset": 0, "length": 1},
                    {"type": "italic", "offset": 2, "length": 1},
                    {"type": "underline", "offset": 4, "length": 1},
                    {"type": "strikethrough", "offset": 6, "length": 1},
                    {"type": "spoiler", "offset": 8, "length": 1},
                ],
            ),
            ("1\\.5 \\*not bold\\*", "1.5 *not bold*", []),
            (
                "*bold _both_*",
                "bold both",
                [
                    {"type": "bold", "offset": 0, "length": 9},
                    {"type": "italic", "offset": 5, "length": 4},
                ],
            ),
            (
                "[site](https://e.x/a\\)b) [Jo](tg://user?id=7)",
                "site Jo",
                [
                    {"type": "text_link", "offset": 0, "length": 4, "url": "https://e.x/a)b"},
                    {
                        "type": "text_mention",
                        "offset": 5,
                        "length": 2,
                        "user": {"id": 7, "is_bot": False, "first_name": "User 7"},
                    },
                ],
            ),
            (
                "`a\\`b` ```python\nx = 1```",
                "a`b x = 1",
                [
                    {"type": "code", "offset": 0, "length": 3},
                    {"type": "pre", "offset": 4, "length": 5, "language": "python"},
                ],
            ),
            ("😀*x*", "😀x", [{"type": "bold", "offset": 2, "length": 1}]),
            (
                ">one\n>two\nthree",
                "one\ntwo\nthree",
                [{"type": "blockquote", "offset": 0, "length": 7}],
            ),
            (
                "![👍](tg://emoji?id=42)",
                "👍",
                [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "42"}],
            ),
            (
                "___iu_**__",
                "iu",
                [
                    {"type": "underline", "offset": 0, "length": 2},
                    {"type": "italic", "offset": 0, "length": 2},
                ],
            ),
        ],
    )
    def test_markup_becomes_entities(
        self, source: str, text: str, entities: list[dict[str, Any]]
    ) -> None:
        """Markup becomes plain text and entities with UTF-16 offsets, as Telegram sends them."""
        assert parse_markdown_v2(source) == (text, entities)

    @pytest.mark.parametrize(
        ("source", "reason"),
        [
            ("Hi.", "Character '.' is reserved and must be escaped with the preceding '\\'"),
            ("a-b", "Character '-' is reserved"),
            ("*open", "Can't find end of Bold entity at byte offset 0"),
            ("é _open", "Can't find end of Italic entity at byte offset 3"),
            ("`code", "Can't find end of Code entity"),
        ],
    )
    def test_bad_markup_is_refused_like_telegram(self, source: str, reason: str) -> None:
        """Unescaped reserved characters and unclosed entities are 400s in Telegram's words."""
        with pytest.raises(APIError) as caught:
            parse_markdown_v2(source)

        assert caught.value.status == 400
        assert caught.value.description.startswith(f"Bad Request: can't parse entities: {reason}")
