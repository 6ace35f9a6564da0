"""Chromium (Debian's, no browser download) driven by Playwright, for the UI tests.

Each test gets a fresh page in Simplified Chinese on the app served in-process; errors thrown
by the page's scripts fail the test, and screenshots land under the test run's output folder.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def launch() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        await browser.close()


@dataclass
class UiPage:
    page: Page
    context: BrowserContext
    base: str
    shots: Path
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    async def open(self, path: str = "/") -> Page:
        await self.page.goto(self.base + path)
        await self.page.wait_for_load_state("networkidle")
        return self.page

    async def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


async def new_page(browser: Browser, base: str, shots: Path, locale: str = "zh-CN") -> UiPage:
    context = await browser.new_context(locale=locale, viewport={"width": 1400, "height": 860})
    page = await context.new_page()
    ui = UiPage(page, context, base, shots)
    page.on("pageerror", lambda error: ui.errors.append(str(error)))
    page.on("console", lambda message: ui.console.append(f"{message.type}: {message.text}"))
    page.on("dialog", lambda dialog: ui.errors.append(f"unexpected dialog: {dialog.message}"))
    return ui
