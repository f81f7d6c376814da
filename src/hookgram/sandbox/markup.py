"""Telegram's HTML parse mode: tags become plain text plus entities with UTF-16 offsets."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from hookgram.sandbox.replies import APIError

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_TEXT_MENTION_PREFIX = "tg://user?id="


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities for `source` in Telegram's HTML, or a 400 like Telegram's."""
    parser = _EntityParser(source)
    parser.feed(source)
    parser.close()
    return "".join(parser.parts), parser.finish()


def link_entity(href: str) -> dict[str, Any]:
    """A text_link, or a text_mention for `tg://user?id=<id>` (shared by both parse modes)."""
    if href.startswith(_TEXT_MENTION_PREFIX):
        user_id = href.removeprefix(_TEXT_MENTION_PREFIX)
        if user_id.isdigit():
            user = {"id": int(user_id), "is_bot": False, "first_name": f"User {user_id}"}
            return {"type": "text_mention", "user": user}
    return {"type": "text_link", "url": href}


def _cant_parse(reason: str) -> APIError:
    return APIError.bad_request(f"can't parse entities: {reason}")


@dataclass(slots=True)
class _Open:
    tag: str
    entity: dict[str, Any] | None
    offset: int
    order: int


class _EntityParser(HTMLParser):
    """Collects the plain text and the entities while HTMLParser walks the markup."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.entities: list[tuple[int, dict[str, Any]]] = []
        self._opened = 0
        self._offset = 0
        self._stack: list[_Open] = []
        self._source = source

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self._offset += utf16_length(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity = self._entity_for(tag, dict(attrs))
        self._opened += 1
        self._stack.append(_Open(tag, entity, self._offset, self._opened))

    def handle_endtag(self, tag: str) -> None:
        if not self._stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {self._byte_offset()}")
        opened = self._stack.pop()
        if opened.tag != tag:
            raise _cant_parse(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{opened.tag}>", found "</{tag}>"'
            )
        length = self._offset - opened.offset
        if opened.entity is not None and length > 0:
            entity = {**opened.entity, "offset": opened.offset, "length": length}
            self.entities.append((opened.order, entity))

    def finish(self) -> list[dict[str, Any]]:
        """The entities in Telegram's order, or a 400 if a tag was left open."""
        if self._stack:
            raise _cant_parse(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1].tag}"'
            )
        # Telegram lists entities by offset, an outer entity before the ones nested in it.
        ordered = sorted(self.entities, key=lambda item: (item[1]["offset"], item[0]))
        return [entity for _, entity in ordered]

    def _entity_for(self, tag: str, attrs: dict[str, str | None]) -> dict[str, Any] | None:
        if tag == "code" and self._stack and self._stack[-1].tag == "pre":
            self._merge_into_pre(attrs.get("class"))
            return None
        if tag in _SIMPLE_TAGS:
            return {"type": _SIMPLE_TAGS[tag]}
        if tag == "a":
            return link_entity(attrs.get("href") or "")
        if tag == "span" and attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        if tag == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        if tag == "tg-emoji" and attrs.get("emoji-id"):
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def _merge_into_pre(self, css_class: str | None) -> None:
        # <pre><code class="language-x"> is one pre entity with a language, not two entities.
        pre = self._stack[-1].entity
        if pre is not None and css_class and css_class.startswith("language-"):
            pre["language"] = css_class.removeprefix("language-")

    def _byte_offset(self) -> int:
        line, column = self.getpos()
        index = sum(len(text) + 1 for text in self._source.split("\n")[: line - 1]) + column
        return len(self._source[:index].encode())
