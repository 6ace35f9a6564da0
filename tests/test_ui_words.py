"""Chinese throughout and the small defects of the settings (issue 15 items 9 and 11), in a
real Chromium: refused settings each marked by their label, no raw keys, no English tails,
job statuses in Chinese, the first save of a new install keeping the page, no stale toast."""

from playwright.async_api import expect

from mycrmd.model.jobs import RunStatus
from mycrmd.store import config_table, job_runs
from mycrmd.store.pool import Pool, execute, insert
from tests.support.browser import UiPage


async def test_refused_settings_are_all_marked_by_label_and_no_stale_toast(
    ui: UiPage, pool: Pool
) -> None:
    await execute(pool, "DELETE FROM config WHERE parameter = 'language'")  # a new install
    page = await ui.open()
    await page.evaluate("window.notReloaded = true")
    await page.get_by_role("button", name="设置").click()
    await page.get_by_role("menuitem", name="参数设置").click()
    dialog = page.locator("#settings-dialog")
    await expect(dialog.locator("[name=language]")).to_have_value("auto")
    await dialog.locator("[name=monitor_mail_days]").fill("12")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).not_to_be_visible()
    toast = page.locator("#toast")
    await expect(toast).to_have_text("设置已保存")
    assert await page.evaluate("window.notReloaded === true"), "the first save keeps the page"
    assert await config_table.get(pool, "language") in (None, ""), "language was not sent"

    await page.get_by_role("button", name="设置").click()
    await page.get_by_role("menuitem", name="参数设置").click()
    await dialog.locator("[name=mail_reserved_days]").fill("0")
    await dialog.locator("[name=mail_port]").fill("70000")
    await dialog.get_by_role("button", name="保存").click()
    reserved = dialog.locator(".field-error[data-for=mail_reserved_days]")
    port = dialog.locator(".field-error[data-for=mail_port]")
    await expect(reserved).to_contain_text("邮箱消息保存天数: 必须是")
    await expect(port).to_contain_text("邮箱服务器端口: 必须是 1 到 65535 的整数")
    for box in (reserved, port):
        assert "mail_" not in await box.text_content()
    await expect(dialog.locator("[name=mail_reserved_days]")).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(dialog.locator("[name=mail_port]")).to_have_attribute("aria-invalid", "true")
    await expect(toast).to_be_hidden()
    await ui.shot("settings-all-refused")
    assert await config_table.get(pool, "monitor_mail_days") == "12"


async def test_an_invalid_address_reads_in_chinese_without_an_english_tail(
    ui: UiPage, pool: Pool
) -> None:
    page = await ui.open()
    await page.locator("#customers-grid").get_by_role("button", name="添加").click()
    dialog = page.locator("#customer-dialog")
    await dialog.locator("[name=email]").fill("not-an-address")
    await dialog.get_by_role("button", name="保存").click()
    error = dialog.locator(".field-error[data-for=email]")
    await expect(error).to_have_text("邮箱地址无效: not-an-address（缺少 @ 符号）")
    await ui.shot("address-refused-in-chinese")


async def test_job_statuses_read_in_chinese(ui: UiPage, pool: Pool) -> None:
    run = await job_runs.start_run(pool, "verify", "schedule", 1)
    await job_runs.finish_run(pool, run, RunStatus.FAILED, {"error": "x"})
    await insert(pool, "INSERT INTO customers (email) VALUES ('a@words.example')")
    page = await ui.open()
    await page.get_by_role("button", name="系统日志").click()
    await page.get_by_role("menuitem", name="客户邮箱有效性检查日志").click()
    state = page.locator("#panel-log-verify .job-state")
    await expect(state).to_contain_text("上次运行")
    await expect(state).to_contain_text("失败")
    assert "failed" not in await state.text_content()
    await ui.shot("log-status-in-chinese")


async def test_small_defects_of_the_grid_panel_and_charts(ui: UiPage, pool: Pool) -> None:
    """我的消息(N) counts the notices listed; 类型 stays on one line; "unconfirmed" is marked by
    a bar, not an underline, and a legend says so; no mail says 暂无邮件数据; the rule's
    day count has its own label."""
    for subject in ("备份完成", "同步完成"):
        await insert(
            pool,
            "INSERT INTO messages (sender, date, type, subject) "
            "VALUES ('系统', NOW(), 'system', %s)",
            (subject,),
        )
    await insert(pool, "INSERT INTO customers (email, valid) VALUES ('u@marks.example', 2)")
    page = await ui.open()
    await expect(page.locator("#message-rows tr")).to_have_count(2)
    await expect(page.locator("#messages-menu")).to_have_text("我的消息(2)")
    type_cell = page.locator("#message-rows tr").first.locator("td").nth(1)
    box = await type_cell.bounding_box()
    assert box and box["height"] < 30, "类型 is on one line"
    row = page.locator("#customers-grid tr.unconfirmed")
    decoration = "el => getComputedStyle(el).textDecorationLine"
    assert await row.locator("td").nth(1).evaluate(decoration) == "none"
    shadow = "el => getComputedStyle(el).boxShadow"
    assert "inset" in await row.locator("td").first.evaluate(shadow)
    await expect(page.locator("#customers-grid .mark-unconfirmed")).to_have_text("有效性未确认")
    await ui.shot("grid-unconfirmed-marker")
    await page.get_by_role("tab", name="待跟进客户").click()
    await expect(page.get_by_label("，且超过")).to_have_attribute("name", "followup_days")
    await page.get_by_role("tab", name="数据统计").click()
    await expect(page.locator("#stats-content .chart-empty")).to_have_text("暂无邮件数据")
    await expect(page.locator("#stats-content svg")).to_have_count(1)
    await ui.shot("statistics-no-mail")


async def test_the_dark_themes_menu_items_can_be_read(ui: UiPage, pool: Pool) -> None:
    """The theme items take the page's theme, not the one they name."""
    page = await ui.open()
    await page.get_by_role("button", name="设置").click()
    await page.get_by_role("menuitemradio", name="黑色").click()
    await expect(page.locator("html")).to_have_attribute("data-theme", "black")
    await page.get_by_role("button", name="设置").click()
    await page.get_by_role("menuitem", name="参数设置").hover()
    color = "el => getComputedStyle(el).color"
    text = await page.get_by_role("menuitem", name="参数设置").evaluate(color)
    for theme in ("默认", "灰色", "黑色", "Metro"):
        item = page.get_by_role("menuitemradio", name=theme)
        assert await item.evaluate(color) == text, f"{theme} reads like the other items"
    await ui.shot("theme-black-menu")
