"""Telegram's MarkdownV2 parse mode: markup becomes plain text plus entities (UTF-16 offsets).

Follows the Bot API rules: `\\` escapes any ASCII character; `_*[]()~`>#+-=|{}.!` are reserved
outside entities; inside code and pre only `` ` `` and `\\` are special; `__` is read greedily
as underline; a line starting with `>` is a block quote (`**>` an expandable one ending `||`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hookgram.sandbox.markup import link_entity, utf16_length
from hookgram.sandbox.replies import APIError

_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_TOGGLES = {"__": "underline", "||": "spoiler", "*": "bold", "_": "italic", "~": "strikethrough"}
_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for `source` in MarkdownV2, or a 400 worded like Telegram's."""
    parser = _Parser(source)
    parser.run()
    return "".join(parser.out), parser.finish()


def _cant_parse(reason: str) -> APIError:
    return APIError.bad_request(f"can't parse entities: {reason}")


@dataclass(slots=True)
class _Open:
    kind: str
    offset: int
    at: int  # index in the source, for the error message
    order: int


class _Parser:
    """A left-to-right scan keeping the open entities on a stack, as Telegram's parser does."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.i = 0
        self.out: list[str] = []
        self.offset = 0
        self.stack: list[_Open] = []
        self.done: list[tuple[int, dict[str, Any]]] = []
        self.quote: _Open | None = None

    def run(self) -> None:
        while self.i < len(self.src):
            if self.at_line_start():
                self.line_start()
            char = self.src[self.i]
            if char == "\\" and self.i + 1 < len(self.src) and 0 < ord(self.src[self.i + 1]) < 127:
                self.emit(self.src[self.i + 1])
                self.i += 2
            elif char in _RESERVED:
                self.markup(char)
            else:
                if char == "\n":
                    self.line_end()
                self.emit(char)
                self.i += 1
        self.line_end()

    def finish(self) -> list[dict[str, Any]]:
        if self.stack:
            opened = self.stack[-1]
            name = _NAMES.get(opened.kind, opened.kind)
            raise _cant_parse(
                f"Can't find end of {name} entity at byte offset {self.byte(opened.at)}"
            )
        return [entity for _, entity in sorted(self.done, key=lambda d: (d[1]["offset"], d[0]))]

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_length(text)

    def byte(self, index: int) -> int:
        return len(self.src[:index].encode())

    def at_line_start(self) -> bool:
        return self.i == 0 or self.src[self.i - 1] == "\n"

    def line_start(self) -> None:
        if self.src.startswith("**>", self.i) or self.src.startswith(">", self.i):
            expandable = self.src[self.i] == "*"
            if self.quote is None:
                kind = "expandable_blockquote" if expandable else "blockquote"
                self.quote = _Open(kind, self.offset, self.i, len(self.done))
            self.i += 3 if expandable else 1

    def line_end(self) -> None:
        """Close a block quote unless the next line goes on with `>`."""
        if self.quote is None:
            return
        rest = self.src[self.i + 1 :] if self.i < len(self.src) else ""
        if self.i < len(self.src) and rest.startswith(">"):
            return
        self.close(self.quote)
        self.quote = None

    def markup(self, char: str) -> None:
        if char == "`":
            self.code()
        elif char == "[" or (char == "!" and self.src.startswith("![", self.i)):
            self.open("custom_emoji" if char == "!" else "text_link", 2 if char == "!" else 1)
        elif char == "]" and self.stack and self.stack[-1].kind in ("text_link", "custom_emoji"):
            self.link_end()
        elif (
            char == "|"
            and self.quote
            and self.quote.kind == "expandable_blockquote"
            and (self.src.startswith("||\n", self.i) or self.src[self.i :] == "||")
        ):
            self.i += 2
        elif token := self.toggle_token(char):
            self.toggle(_TOGGLES[token], len(token))
        else:
            raise _cant_parse(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )

    def toggle_token(self, char: str) -> str | None:
        if char == "~":
            return "~"
        if char in "_|" and self.src.startswith(char * 2, self.i):
            return char * 2
        return char if char in "*_" else None

    def toggle(self, kind: str, width: int) -> None:
        if self.stack and self.stack[-1].kind == kind:
            self.close(self.stack.pop())
            self.i += width
            return
        self.open(kind, width)

    def open(self, kind: str, width: int) -> None:
        if any(opened.kind == kind for opened in self.stack):
            name = _NAMES.get(kind, kind)
            raise _cant_parse(f"Can't find end of {name} entity at byte offset {self.byte(self.i)}")
        self.stack.append(_Open(kind, self.offset, self.i, len(self.done) + len(self.stack)))
        self.i += width

    def close(self, opened: _Open, **extra: Any) -> None:
        length = self.offset - opened.offset
        if length > 0:
            entity = {"type": opened.kind, "offset": opened.offset, "length": length, **extra}
            self.done.append((opened.order, entity))

    def link_end(self) -> None:
        opened = self.stack.pop()
        self.i += 1
        if not self.src.startswith("(", self.i):
            if opened.kind == "custom_emoji":
                raise _cant_parse("Custom emoji entity must contain a tg://emoji URL")
            return
        url = self.until(")", start=self.i + 1, what="a URL")
        if opened.kind == "custom_emoji":
            emoji_id = url.removeprefix("tg://emoji?id=")
            if emoji_id == url or not emoji_id.isdigit():
                raise _cant_parse("Custom emoji URL must have an emoji identifier")
            self.close(opened, custom_emoji_id=emoji_id)
            return
        entity = link_entity(url)
        extra = {key: value for key, value in entity.items() if key != "type"}
        self.close(_Open(entity["type"], opened.offset, opened.at, opened.order), **extra)

    def code(self) -> None:
        offset = self.offset
        order = len(self.done) + len(self.stack)
        if self.src.startswith("```", self.i):
            header_end = self.src.find("\n", self.i + 3)
            header = self.src[self.i + 3 : header_end] if header_end >= 0 else ""
            language = header if header and " " not in header and "`" not in header else ""
            begin = header_end + 1 if language else self.i + 3
            self.emit(self.until("```", start=begin, what="Pre"))
            entity: dict[str, Any] = {
                "type": "pre",
                "offset": offset,
                "length": self.offset - offset,
            }
            if language:
                entity["language"] = language
        else:
            self.emit(self.until("`", start=self.i + 1, what="Code"))
            entity = {"type": "code", "offset": offset, "length": self.offset - offset}
        if entity["length"] > 0:
            self.done.append((order, entity))

    def until(self, end: str, *, start: int, what: str) -> str:
        """Unescaped text from `start` to the next `end`; the scan moves past `end`."""
        chars: list[str] = []
        index = start
        while index < len(self.src):
            if self.src[index] == "\\" and index + 1 < len(self.src):
                chars.append(self.src[index + 1])
                index += 2
            elif self.src.startswith(end, index):
                self.i = index + len(end)
                return "".join(chars)
            else:
                chars.append(self.src[index])
                index += 1
        name = what if what in ("Pre", "Code") else "the entity"
        if name == "the entity":
            raise _cant_parse(f"Can't find end of {what} at byte offset {self.byte(start)}")
        raise _cant_parse(f"Can't find end of {name} entity at byte offset {self.byte(self.i)}")
