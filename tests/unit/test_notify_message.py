"""The default handler's message: what fits in one Telegram message, and how it is escaped."""

from __future__ import annotations

from hookgram.handlers.notify import fit
from hookgram.sandbox.markup import parse_html


def _visible(html_text: str) -> str:
    return parse_html(html_text)[0]


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class TestFit:
    def test_short_body_untouched(self) -> None:
        """A body that fits is shown whole, escaped, after the bold head line."""
        text = fit("shop · a<b", '{"x": "<&>"}')
        assert text == '<b>shop · a&lt;b</b>\n<pre>{"x": "&lt;&amp;&gt;"}</pre>'
        assert _visible(text) == 'shop · a<b\n{"x": "<&>"}'

    def test_cut_counts_utf16_units_after_parsing(self) -> None:
        """Emoji count twice, as Telegram counts them; the cut never splits one."""
        text = fit("head", "😀" * 3000)
        visible = _visible(text)
        assert _utf16(visible) <= 4096
        assert _utf16(visible) >= 4094
        assert visible.endswith("😀…")

    def test_escaping_does_not_eat_the_budget(self) -> None:
        """Characters that escape to entities still count as one each."""
        visible = _visible(fit("head", "&" * 5000))
        assert len(visible) == 4096
        assert visible.endswith("&…")
