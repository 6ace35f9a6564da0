"""The grid fits the screen (issue 15 item 8), in a real Chromium at a laptop's, a desktop's
and a phone's size: the key columns (联系人, 邮箱, 最近联系时间, 有效性) inside the viewport by
default, columns chosen by the user and remembered, the side panel a bar on a narrow screen,
and inline editing's 保存/取消 in view however wide the row."""

import pytest
from playwright.async_api import Locator, Page, expect

from mycrmd.model.customer import KEY_COLUMNS
from mycrmd.store.pool import Pool, insert
from tests.support.browser import UiPage, show_columns

SIZES = [(1366, 768), (1920, 1080), (390, 844), (1024, 768)]


async def wide_customers(pool: Pool, count: int = 5) -> None:
    """Customers whose every column is long, as real ones are."""
    for n in range(count):
        await insert(
            pool,
            "INSERT INTO customers (name, email, importance, company, country, address, phone, "
            "website, comment, last_contact_date, last_checked_log, valid) "
            "VALUES (%s, %s, 3, %s, '中国', %s, '+86 21 5555 0101', %s, %s, NOW(), %s, %s)",
            (
                f"客户{n}号",
                f"customer.number{n}@long-company-name.example.com",
                f"上海长名字国际贸易有限公司{n}",
                f"上海市浦东新区世纪大道{n}号金融中心大厦二十八楼",
                f"https://www.long-company-name-{n}.example.com/",
                "<p>" + "备注" * 100 + "</p>",
                "mailbox exists, accepts mail, no catch-all",
                n % 3,
            ),
        )


async def inside(page: Page, cell: Locator) -> bool:
    """The cell wholly within the viewport and within its grid's scrolled view."""
    box = await cell.bounding_box()
    view = await cell.locator("xpath=ancestor::div[contains(@class,'grid-scroll')]").bounding_box()
    size = page.viewport_size
    assert box and view and size
    return (
        box["x"] >= view["x"] - 1
        and box["x"] + box["width"] <= min(view["x"] + view["width"], size["width"]) + 1
        and box["y"] + box["height"] <= size["height"]
    )


@pytest.mark.parametrize(("width", "height"), SIZES)
async def test_the_key_columns_are_in_view(ui: UiPage, pool: Pool, width: int, height: int) -> None:
    await wide_customers(pool)
    await ui.page.set_viewport_size({"width": width, "height": height})
    page = await ui.open()
    grid = page.locator("#customers-grid")
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(5)
    row = grid.locator("tbody tr[data-id]").first
    for name in KEY_COLUMNS:
        cell = row.locator(f"td.col-{name}")
        await expect(cell).to_be_visible()
        assert await inside(page, cell), f"{name} inside the viewport at {width}×{height}"
    panel = page.locator("#side-panel")
    expected = "collapsed" if width <= 1200 else "open"
    await expect(panel).to_have_attribute("data-state", expected)
    await ui.shot(f"grid-fit-{width}x{height}")


async def test_columns_are_chosen_and_remembered(ui: UiPage, pool: Pool) -> None:
    await wide_customers(pool, 2)
    page = await ui.open()
    grid = page.locator("#customers-grid")
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(2)
    await expect(grid.locator("th.col-phone")).to_be_hidden()
    await grid.locator(".column-chooser summary").click()
    await grid.locator(".column-list").get_by_label("电话").check()
    await grid.locator(".column-list").get_by_label("国家").uncheck()
    await expect(grid.locator("th.col-phone")).to_be_visible()
    await expect(grid.locator("tbody tr[data-id]").first.locator("td.col-phone")).to_have_text(
        "+86 21 5555 0101"
    )
    await expect(grid.locator("td.col-country")).to_have_count(0)
    await ui.shot("grid-column-chooser")
    await page.reload()
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(2)
    await expect(grid.locator("th.col-phone")).to_be_visible()
    await expect(grid.locator("th.col-country")).to_be_hidden()
    await expect(page.locator("#followup-grid th.col-phone")).to_be_hidden(), "per grid"


async def test_inline_edit_buttons_stay_in_view_on_a_wide_row(ui: UiPage, pool: Pool) -> None:
    await wide_customers(pool, 2)
    await ui.page.set_viewport_size({"width": 1366, "height": 768})
    page = await ui.open()
    grid = page.locator("#customers-grid")
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(2)
    await show_columns(grid)
    scroller = grid.locator(".grid-scroll")
    await scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    await grid.locator("tbody tr[data-id]").first.locator("td.col-valid").dblclick()
    await expect(grid.locator(".edit-actions")).to_have_count(1)
    # focusing the first input scrolls back; the buttons must hold at the far end too
    await scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert await scroller.evaluate("el => el.scrollLeft > 200"), "the row is wider than the grid"
    for name in ("保存", "取消"):
        button = grid.locator(".edit-actions").get_by_role("button", name=name)
        await expect(button).to_be_visible()
        assert await inside(page, button), f"{name} in view with the row scrolled to its end"
    await ui.shot("grid-inline-edit-wide-row")
    await grid.locator(".edit-actions").get_by_role("button", name="取消").click()
    await expect(grid.locator(".edit-actions")).to_have_count(0)
