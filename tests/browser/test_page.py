"""The chat page in a real headless browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page

from tests.chromium import chromium
from tests.conftest import StartSandbox
from tests.sandbox_client import tiny_png

WAIT_MS = 15_000


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    """A fresh browser page (./scripts/test installs chromium)."""
    async with chromium() as browser:
        tab = await browser.new_page(viewport={"width": 1400, "height": 800})
        tab.set_default_timeout(WAIT_MS)
        yield tab


async def open_chat(page: Page, start_sandbox: StartSandbox, app: str | None) -> None:
    running = await start_sandbox(app)
    await page.goto(running.page_url)
    await page.wait_for_selector("body[data-ready]")


async def send(page: Page, text: str) -> None:
    await page.fill("#text", text)
    await page.click("#send")


class TestChatPage:
    async def test_start_shows_the_bold_greeting(
        self, page: Page, start_sandbox: StartSandbox
    ) -> None:
        """Typing /start shows the echo bot's greeting with the name in bold."""
        await open_chat(page, start_sandbox, None)

        await send(page, "/start")
        bold = page.locator("#messages .message.bot b")
        await bold.wait_for()

        assert await bold.inner_text() == "Alice"
        assert "Hello, Alice!" in await page.locator("#messages .message.bot").inner_text()
        assert await page.locator("#messages .message.mine .command").inner_text() == "/start"

    async def test_photo_is_echoed(self, page: Page, start_sandbox: StartSandbox) -> None:
        """An attached photo is sent, and the bot's copy shows as a loaded image."""
        await open_chat(page, start_sandbox, None)

        await page.set_input_files(
            "#file", files=[{"name": "dot.png", "mimeType": "image/png", "buffer": tiny_png()}]
        )
        await page.click("#send")
        echoed = page.locator("#messages .message.bot img.photo")
        await echoed.wait_for()
        await page.wait_for_function(
            "document.querySelector('#messages .message.bot img.photo').naturalWidth > 0"
        )

        assert await page.locator("#messages .message.mine img.photo").count() == 1
        assert await echoed.evaluate("image => image.naturalWidth") == 4

    async def test_inline_button_edits_in_place(
        self, page: Page, start_sandbox: StartSandbox
    ) -> None:
        """Pressing an inline button edits the bot's message in place and shows its answer."""
        await open_chat(page, start_sandbox, "tests.bots.counter:create_router")
        await send(page, "/start")
        message = page.locator("#messages .message.bot").first
        await message.get_by_role("button", name="+1").wait_for()

        await message.get_by_role("button", name="+1").click()
        await page.wait_for_function(
            "document.querySelector('#messages .message.bot b').textContent === '1'"
        )

        assert await page.locator("#messages .message.bot").count() == 1
        assert "edited" in await message.locator(".meta").inner_text()
        await page.locator("#toast", has_text="Counted 1").wait_for()

    async def test_side_panel_shows_update_and_calls(
        self, page: Page, start_sandbox: StartSandbox
    ) -> None:
        """The side panel lists the update the webhook got and the bot's calls, secrets masked."""
        running = await start_sandbox(None)
        await page.goto(running.page_url)
        await page.wait_for_selector("body[data-ready]")

        await send(page, "hello")
        await page.locator("#log li", has_text="sendMessage").wait_for()
        await page.evaluate("document.querySelectorAll('#log details').forEach(d => d.open = true)")

        log = await page.locator("#log").inner_text()
        assert "update 1: message" in log
        assert "delivered" in log
        assert '"text": "hello"' in log
        assert running.emulator.webhook.secret_token
        assert running.emulator.webhook.secret_token not in await page.content()
        assert '"secret_token": "********"' in log

    async def test_pays_an_invoice(self, page: Page, start_sandbox: StartSandbox) -> None:
        """Pressing Pay on an invoice completes a Stars payment and shows the bot's thanks."""
        await open_chat(page, start_sandbox, "tests.bots.shop:create_router")
        await send(page, "/buy")

        await page.get_by_role("button", name="Pay ⭐ 5").click()
        await page.locator("#messages .message.service", has_text="paid").wait_for()
        await page.locator("#messages .message.bot", has_text="Thanks for 5 stars!").wait_for()

        assert await page.locator("#messages .invoice").count() == 1
