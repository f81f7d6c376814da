"""The inspector in a real browser: Debian's Chromium, headless, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from hookgram.sandbox import BotAPIEmulator
from tests.chromium import chromium
from tests.conftest import Server, StartServer
from tests.factories import body, message_update, user

INSPECTOR_TOKEN = "browser-inspector-token-0123456789"
SHOP_SECRET = "shop-token-for-the-browser-test"
WAIT_MS = 15_000  # for the worker and the live refresh on a loaded CI machine


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's package; ./scripts/test installs it)."""
    async with chromium() as launched:
        yield launched


async def _log_in(page: Page, server: Server) -> None:
    await page.goto(server.base + "/inspector/")
    await expect(page.locator("h1")).to_have_text("Log in")
    await page.fill("#token", INSPECTOR_TOKEN)
    await page.click("form[action='/inspector/login'] button")
    await expect(page.locator("#events-title")).to_be_visible()


class TestInspectorInBrowser:
    async def test_log_in_see_filter_open_replay(
        self, start_server: StartServer, emulator: BotAPIEmulator, browser: Browser
    ) -> None:
        """Log in, see a just-posted update appear, filter by status, open it, replay it."""
        server = await start_server(inspector_token=INSPECTOR_TOKEN)
        page = await browser.new_page()
        await _log_in(page, server)
        await expect(page.locator("td.empty")).to_have_text("No events.")

        text = "hello from Chromium <script>window.pwned = 1</script>"
        status, _ = await server.post(body(message_update(text, chat_id=77)))
        assert status == 200
        row = page.locator("tr.event")
        await expect(row).to_have_count(1, timeout=WAIT_MS)  # live refresh, no reload
        await expect(row.locator("td.summary")).to_contain_text("hello from Chromium <script>")
        await expect(row.locator(".status")).to_have_text("done", timeout=WAIT_MS)
        assert await page.evaluate("window.pwned") is None

        await page.select_option("select[name=status]", "dead")
        await page.click("text=Filter")
        await expect(page.locator("td.empty")).to_have_text("No events match these filters.")
        await page.select_option("select[name=status]", "done")
        await page.click("text=Filter")
        await expect(page.locator("tr.event")).to_have_count(1)

        await page.click("tr.event td.summary a")
        await expect(page.locator("h1")).to_contain_text("Event")
        await expect(page.locator("pre.body")).to_contain_text('"text": "hello from Chromium')
        await expect(page.locator("tr.attempt")).to_have_count(1)
        await page.click("button:has-text('Replay')")
        await expect(page.locator(".notice")).to_contain_text("Queued for replay")
        await expect(page.locator("tr.attempt")).to_have_count(2, timeout=WAIT_MS)
        await expect(page.locator("tr.attempt").nth(1)).to_contain_text("done")
        assert len(await emulator.wait_for_calls("sendMessage", 2)) == 2

    async def test_works_without_javascript(
        self, start_server: StartServer, browser: Browser
    ) -> None:
        """With JavaScript off the pages still log in, list, show a row and replay it."""
        server = await start_server(worker=False, inspector_token=INSPECTOR_TOKEN)
        await server.post(body(message_update("no scripts here")))
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()
        await _log_in(page, server)
        await expect(page.locator("tr.event td.summary")).to_contain_text("no scripts here")
        await page.click("tr.event td.summary a")
        await expect(page.locator("tr.attempt")).to_have_count(0)
        await page.click("button:has-text('Replay')")
        await expect(page.locator(".notice")).to_contain_text("Queued for replay")
        await context.close()

    async def test_list_page_screenshot(
        self,
        start_server: StartServer,
        emulator: BotAPIEmulator,
        browser: Browser,
        tmp_path: Path,
    ) -> None:
        """The list and a dead row render with several sources; the screenshots in docs/."""
        shop = {"name": "shop", "verify": "token", "header": "X-Shop-Token", "secret": SHOP_SECRET}
        server = await start_server(
            inspector_token=INSPECTOR_TOKEN, sources=[{**shop, "notify": [1001]}]
        )
        await _sample_traffic(server, emulator)
        page = await browser.new_page(viewport={"width": 1280, "height": 760})
        await _log_in(page, server)
        await expect(page.locator("tr.event")).to_have_count(7)
        await expect(page.locator("tr.event .status.dead")).to_have_count(1, timeout=WAIT_MS)
        await expect(page.locator("tr.event .status.done")).to_have_count(6, timeout=WAIT_MS)
        await expect(page.locator("tr.event .status.pending")).to_have_count(0, timeout=WAIT_MS)
        await page.reload()  # the counts table is cached for a few seconds
        await expect(page.locator("table").first).to_contain_text("shop")
        await page.screenshot(path=str(tmp_path / "inspector.png"), full_page=True)
        await page.click("tr.event:has(.status.dead) td.summary a")
        await expect(page.locator("tr.attempt")).to_contain_text("bot was blocked by the user")
        await page.screenshot(path=str(tmp_path / "inspector-event.png"), full_page=True)
        for name in ("inspector.png", "inspector-event.png"):
            assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
            # HOOKGRAM_SCREENSHOT_DIR=docs refreshes the pictures in the docs.
            target = os.environ.get("HOOKGRAM_SCREENSHOT_DIR")
            if target:
                shutil.copyfile(tmp_path / name, Path(target) / name)


async def _sample_traffic(server: Server, emulator: BotAPIEmulator) -> None:
    """A few realistic rows: chats, a group, a command, a blocked user, a payment provider."""
    emulator.block_chat(5005)
    updates = [
        message_update("/start", chat_id=1001, sender=user(1001, "Ada", "Lovelace")),
        message_update("Is my order shipped?", chat_id=1002, sender=user(1002, "Alan", None)),
        message_update("deploy finished", chat_id=-100200, sender=user(1003, "Grace", "Hopper")),
        message_update("you are blocked", chat_id=5005, sender=user(5005, "Blocked", None)),
        message_update(
            "<b>not bold</b> & <i>escaped</i>", chat_id=1001, sender=user(1001, "Ada", "Lovelace")
        ),
        message_update("thanks!", chat_id=1002, sender=user(1002, "Alan", None)),
    ]
    for update in updates:
        status, _ = await server.post(body(update))
        assert status == 200
    status, _ = await server.post(
        b'{"type": "invoice.paid", "id": "evt_3KZ", "amount": 1990, "currency": "EUR"}',
        secret=None,
        path="/hooks/shop",
        headers={"X-Shop-Token": SHOP_SECRET},
    )
    assert status == 200
