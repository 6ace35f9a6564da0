"""Chromium (Debian's, no browser download) driven by Playwright, for the UI tests.

Each test gets a fresh page in Simplified Chinese on the app served in-process; errors thrown
by the page's scripts fail the test, and screenshots land under the test run's output folder.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import (
    Browser,
    BrowserContext,
    Dialog,
    Locator,
    Page,
    Request,
    async_playwright,
)

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
    foreign: list[str] = field(default_factory=list)  # requests that left the app's origin
    pending: set[asyncio.Future[None]] = field(default_factory=set)

    async def open(self, path: str = "/") -> Page:
        await self.page.goto(self.base + path)
        await self.page.wait_for_load_state("networkidle")
        return self.page

    async def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


async def show_columns(grid: Locator, *labels: str) -> None:
    """Columns a grid hides by default, shown through its 显示列 (every one when none named)."""
    await grid.locator(".column-chooser summary").click()
    boxes = grid.locator(".column-list")
    for box in [boxes.get_by_label(label, exact=True) for label in labels] or await boxes.locator(
        "input"
    ).all():
        await box.check()
    await grid.locator(".column-chooser summary").click()


async def new_page(browser: Browser, base: str, shots: Path, locale: str = "zh-CN") -> UiPage:
    context = await browser.new_context(locale=locale, viewport={"width": 1400, "height": 860})
    page = await context.new_page()
    ui = UiPage(page, context, base, shots)
    page.on("pageerror", lambda error: ui.errors.append(str(error)))
    page.on("console", lambda message: ui.console.append(f"{message.type}: {message.text}"))
    page.on("dialog", lambda dialog: _refuse_dialog(ui, dialog))
    page.on("request", lambda request: _note_foreign(ui, request.url))
    page.on("requestfailed", lambda request: _forget_blocked(ui, request))
    return ui


def _note_foreign(ui: UiPage, url: str) -> None:
    if not url.startswith((ui.base + "/", "data:", "about:", "blob:")):
        ui.foreign.append(url)


def _refuse_dialog(ui: UiPage, dialog: Dialog) -> None:
    """Noted as an error and dismissed, so the page goes on (an open dialog blocks it)."""
    ui.errors.append(f"unexpected dialog: {dialog.message}")
    ui.pending.add(asyncio.ensure_future(dialog.dismiss()))


def _forget_blocked(ui: UiPage, request: Request) -> None:
    """A request the page's policy stopped never left the browser."""
    if request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP") and request.url in ui.foreign:
        ui.foreign.remove(request.url)
