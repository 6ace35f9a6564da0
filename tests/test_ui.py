"""The UI in a real Chromium, item by item of the web UI issue: layout, the customers grid and
its editing, validation, messages, follow-up, statistics, settings and themes, logs and help."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from aiohttp import web
from playwright.async_api import expect

from mycrmd.config import Config
from mycrmd.jobs.joblog import job_logger
from mycrmd.model.jobs import RunStatus
from mycrmd.store import config_table, job_runs
from mycrmd.store.pool import Pool, execute, fetch_one, fetch_value, insert
from tests.support.browser import UiPage, show_columns
from tests.support.waiting import eventually

PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


async def customers(pool: Pool, count: int = 3) -> list[int]:
    ids = []
    rows = [
        ("张三", "zhang@shanghai.example", 5, "上海贸易", "中国", 1),
        ("Anna Schmidt", "anna@berlin.example", 3, "Schmidt GmbH", "Germany", 2),
        ("Bob", "bob@acme.example", 1, "Acme", "USA", 0),
    ]
    rows += [
        (f"客户{n:03d}", f"k{n:03d}@bulk.example", n % 6, f"公司{n % 7}", "中国", 1)
        for n in range(count - 3)
    ]
    for name, email, importance, company, country, valid in rows[:count]:
        ids.append(
            await insert(
                pool,
                "INSERT INTO customers (name, email, importance, company, country, valid) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (name, email, importance, company, country, valid),
            )
        )
    return ids


async def test_the_layout_menus_top_right_tabs_and_message_panel(ui: UiPage, pool: Pool) -> None:
    await customers(pool)
    page = await ui.open()
    menubar = await page.locator(".menubar").bounding_box()
    assert menubar and menubar["x"] > 700, "the menu bar sits at the top right"
    for menu in ("数据管理", "系统日志", "设置", "帮助"):
        await expect(page.get_by_role("button", name=menu, exact=True)).to_be_visible()
    await expect(page.locator("#messages-menu")).to_have_text("我的消息(0)")
    for tab in ("客户管理", "待跟进客户", "数据统计"):
        await expect(page.get_by_role("tab", name=tab)).to_be_visible()
    panel = await page.locator("#side-panel").bounding_box()
    assert panel and panel["x"] > 900, "the message panel is on the right"
    await page.get_by_role("button", name="系统日志").click()
    for item in (
        "系统通知消息",
        "客户邮箱有效性检查日志",
        "邮箱近期邮件的监控日志",
        "数据备份日志",
    ):
        await expect(page.get_by_role("menuitem", name=item)).to_be_visible()
    await ui.shot("layout-logs-menu")
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="数据管理").click()
    for item in (
        "导出所有客户记录",
        "导出有效客户记录",
        "导出无效客户记录",
        "导出待跟进客户记录",
        "下载导入模板",
        "批量上传客户记录",
    ):
        await expect(page.get_by_role("menuitem", name=item)).to_be_visible()
    await ui.shot("layout-data-menu")


async def test_the_grid_searches_filters_styles_pages_and_sorts(ui: UiPage, pool: Pool) -> None:
    await customers(pool, 45)
    page = await ui.open()
    grid = page.locator("#customers-grid")
    rows = grid.locator("tbody tr[data-id]")
    await expect(rows).to_have_count(20)
    await expect(grid.locator(".total")).to_have_text("共 45 条记录")
    invalid = grid.locator("tr", has_text="bob@acme.example")
    assert (
        await invalid.evaluate("row => getComputedStyle(row.cells[1]).color") == "rgb(198, 40, 40)"
    )
    unconfirmed = grid.locator("tr", has_text="anna@berlin.example")
    assert "inset" in await unconfirmed.evaluate("row => getComputedStyle(row.cells[0]).boxShadow")
    await ui.shot("grid-first-page")
    await grid.locator("[data-page='next']").click()
    await expect(grid.locator(".page-number")).to_have_value("2")
    await expect(rows.first).to_contain_text("k017@bulk.example")  # id 21: three named, then k000…
    await grid.locator("[data-page='last']").click()
    await expect(grid.locator(".page-number")).to_have_value("3")
    await expect(rows).to_have_count(5)
    await expect(rows.first).to_contain_text("k037@bulk.example")
    await expect(rows.last).to_contain_text("k041@bulk.example")
    await grid.locator("[data-page='prev']").click()
    await expect(grid.locator(".page-number")).to_have_value("2")
    await expect(rows.first).to_contain_text("k017@bulk.example")
    await expect(rows.last).to_contain_text("k036@bulk.example")
    await grid.locator(".page-size").select_option("50")
    await expect(rows).to_have_count(45)
    await grid.get_by_role("button", name="客户评级").click()
    await grid.get_by_role("button", name="客户评级").click()
    await expect(rows.first.locator(".col-importance")).to_have_text("5")
    await expect(grid.locator("th[data-sort='importance']")).to_have_attribute(
        "aria-sort", "descending"
    )
    await grid.locator(".only-valid").check()
    await expect(grid.locator("tr.invalid")).to_have_count(0)
    await grid.locator(".search").fill("上海")
    await expect(rows).to_have_count(1)
    await expect(grid.locator(".total")).to_have_text("共 1 条记录")
    await ui.shot("grid-searched")


async def test_adding_editing_and_deleting_from_the_toolbar(ui: UiPage, pool: Pool) -> None:
    await customers(pool)
    page = await ui.open()
    grid = page.locator("#customers-grid")
    await grid.get_by_role("button", name="添加").click()
    dialog = page.locator("#customer-dialog")
    await dialog.locator("[name=name]").fill("李四")
    await dialog.locator("[name=email]").fill("li@new.example")
    await dialog.locator("[name=importance]").select_option("4")
    await ui.shot("dialog-add")
    await dialog.get_by_role("button", name="保存").click()
    await expect(grid.locator("tr", has_text="li@new.example")).to_be_visible()
    added = await fetch_one(
        pool, "SELECT name, importance, valid FROM customers WHERE email = 'li@new.example'"
    )
    assert added == {"name": "李四", "importance": 4, "valid": 2}

    await grid.locator("tr", has_text="li@new.example").click()
    await grid.get_by_role("button", name="修改").click()
    await dialog.locator("[name=company]").fill("北京公司")
    await dialog.get_by_role("button", name="保存").click()
    await expect(grid.locator("tr", has_text="li@new.example")).to_contain_text("北京公司")

    await grid.locator("tr", has_text="li@new.example").click()
    await grid.get_by_role("button", name="删除").click()
    confirm = page.locator("#confirm-dialog")
    await expect(confirm).to_contain_text("li@new.example")
    await ui.shot("dialog-confirm-delete")
    await confirm.get_by_role("button", name="确定").click()
    await expect(grid.locator("tr", has_text="li@new.example")).to_have_count(0)
    assert (
        await fetch_value(pool, "SELECT COUNT(*) FROM customers WHERE email = 'li@new.example'")
        == 0
    )


async def test_double_click_edits_in_place_but_not_the_comment_or_last_contact(
    ui: UiPage, pool: Pool
) -> None:
    (first, *_) = await customers(pool)
    await execute(
        pool,
        "UPDATE customers SET comment = '<b>note</b>', "
        "last_contact_date = '2026-10-01 08:00:00' WHERE id = %s",
        (first,),
    )
    page = await ui.open()
    grid = page.locator("#customers-grid")
    await show_columns(grid, "电话", "备注")
    row = grid.locator(f"tr[data-id='{first}']")
    await row.locator("[data-column=name]").dblclick()  # the company cell is a link
    await expect(row.locator("[data-column=comment] input")).to_have_count(0)
    await expect(row.locator("[data-column=last_contact_date] input")).to_have_count(0)
    await expect(row.locator("[data-column=comment]")).to_have_class("col-comment read-only")
    await row.locator("[data-column=phone] input").fill("+86 21 6666")
    await row.locator("[data-column=valid] select").select_option("2")
    await ui.shot("grid-inline-edit")
    await row.locator("[data-column=phone] input").press("Enter")
    await expect(grid.locator(f"tr[data-id='{first}']")).to_contain_text("+86 21 6666")
    saved = await fetch_one(
        pool,
        "SELECT phone, valid, comment, last_contact_date FROM customers WHERE id = %s",
        (first,),
    )
    assert saved == {
        "phone": "+86 21 6666",
        "valid": 2,
        "comment": "<b>note</b>",
        "last_contact_date": datetime(2026, 10, 1, 8, 0),
    }


async def test_the_rich_text_comment_editor(ui: UiPage, pool: Pool) -> None:
    (first, *_) = await customers(pool)
    page = await ui.open()
    grid = page.locator("#customers-grid")
    await show_columns(grid, "备注")
    await grid.locator(f"tr[data-id='{first}']").click()
    await grid.get_by_role("button", name="编辑备注").click()
    editor = page.locator("#comment-editor")
    await editor.click()
    await page.keyboard.type("重要客户")
    await page.keyboard.press("Control+A")
    await page.locator("[data-command=bold]").click()
    await page.locator("[data-command=italic]").click()
    await page.locator("#comment-color").evaluate(
        "input => { input.value = '#ff0000'; input.dispatchEvent(new Event('input')); }"
    )
    await page.keyboard.press("End")
    await page.keyboard.press("Enter")
    await page.locator("[data-command=insertUnorderedList]").click()
    await page.keyboard.type("第一条")
    await page.keyboard.press("Shift+Home")
    await page.locator("#comment-link").fill("shop.example/p/1")
    await page.locator("[data-command=createLink]").click()
    await ui.shot("comment-editor")
    await page.locator("#comment-dialog").get_by_role("button", name="保存").click()
    await expect(page.locator("#comment-dialog")).not_to_be_visible()
    comment = await fetch_value(pool, "SELECT comment FROM customers WHERE id = %s", (first,))
    assert "<b>" in comment and "<i>" in comment and 'color="#ff0000"' in comment
    assert "<ul><li>" in comment and 'href="https://shop.example/p/1"' in comment
    assert 'rel="noopener noreferrer"' in comment and "style=" not in comment
    await expect(grid.locator(f"tr[data-id='{first}'] .col-comment")).to_contain_text("重要客户")


async def test_validation_errors_name_the_field(ui: UiPage, pool: Pool) -> None:
    await customers(pool)
    page = await ui.open()
    await page.locator("#customers-grid").get_by_role("button", name="添加").click()
    dialog = page.locator("#customer-dialog")
    await dialog.locator("[name=email]").fill("not-an-address")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog.locator(".field-error[data-for=email]")).to_contain_text("邮箱地址无效")
    await expect(dialog.locator("[name=email]")).to_have_attribute("aria-invalid", "true")
    await dialog.locator("[name=email]").fill("ZHANG@shanghai.example")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog.locator(".field-error[data-for=email]")).to_contain_text("已属于客户")
    await expect(dialog.locator(".field-error[data-for=email]")).to_contain_text("张三")
    await ui.shot("dialog-validation")


@pytest.fixture
async def remote_images() -> AsyncIterator[dict]:
    """A server on another origin serving a tracking pixel, counting who asks for it."""
    hits = {"count": 0}

    async def pixel(request: web.Request) -> web.Response:
        hits["count"] += 1
        return web.Response(body=PIXEL, content_type="image/png")

    app = web.Application()
    app.router.add_get("/pixel.png", pixel)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "localhost", 0)
    await site.start()
    hits["url"] = f"http://localhost:{runner.addresses[0][1]}/pixel.png"
    yield hits
    await runner.cleanup()


async def test_messages_in_the_side_panel(ui: UiPage, pool: Pool, remote_images: dict) -> None:
    (first, *_) = await customers(pool)
    now = datetime.now().replace(microsecond=0)
    notice = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) "
        "VALUES ('CRM Admin', %s, 'system', '库存通知', '<p>notice</p>')",
        (now,),
    )
    older = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) "
        "VALUES ('张三', %s, 'receive', '询价', '<p>你好</p>')",
        (now - timedelta(days=2),),
    )
    newer = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) "
        "VALUES ('Sales', %s, 'sendto', '报价', %s)",
        (now - timedelta(days=1), f'<p>报价单</p><img id="tracker" src="{remote_images["url"]}">'),
    )
    for message_id in (older, newer):
        await execute(
            pool,
            "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, 'zhang@shanghai.example')",
            (message_id,),
        )
    assert notice
    await execute(
        pool,
        "INSERT INTO validity_history (customer_id, at, field, old, new, source, reason, "
        "message_id) VALUES (%s, %s, 'valid', '1', '0', 'bounce', 'bounce 5.1.1 user_unknown', %s)",
        (first, now, notice),
    )
    page = await ui.open()
    panel = page.locator("#side-panel")
    # On opening: the system notices (R-CU5).
    await expect(panel.locator("#side-title")).to_have_text("系统通知消息")
    await expect(panel.locator("#message-rows tr")).to_have_count(1)
    await expect(panel.locator("#message-rows")).to_contain_text("库存通知")
    await ui.shot("panel-notices")
    # Selecting a customer shows its count; the menu item opens its messages (R-CU4).
    await page.locator(f"#customers-grid tr[data-id='{first}']").click()
    await expect(page.locator("#messages-menu")).to_have_text("我的消息(2)")
    await page.locator("#messages-menu").click()
    await expect(panel.locator("#side-title")).to_have_text("张三 的消息")
    await expect(panel.locator("#message-rows tr")).to_have_count(2)
    await expect(panel.locator("#message-rows tr").first).to_contain_text("报价")
    # The 历史 section: the change, its source, and a link to the mail that caused it.
    history = panel.locator("#history-view")
    await expect(history).to_be_visible()
    await expect(history.locator("tr")).to_have_count(1)
    await expect(history).to_contain_text("退信")
    await expect(history).to_contain_text("有效 → 无效")
    await history.get_by_role("button", name="查看邮件").click()
    await expect(page.locator("#message-subject")).to_have_text("库存通知")
    await page.locator("#message-back").click()
    await panel.locator("#message-rows tr").first.click()
    frame = page.frame_locator("#message-frame")
    await expect(frame.locator("p")).to_have_text("报价单")
    assert (
        await page.locator("#message-frame").get_attribute("sandbox")
        == "allow-popups allow-popups-to-escape-sandbox"
    )
    await asyncio.sleep(0.3)
    assert remote_images["count"] == 0, "remote images are blocked until asked for"
    await ui.shot("panel-message")
    await page.get_by_role("button", name="显示远程图片").click()
    await expect(frame.locator("#tracker")).to_be_visible()
    await eventually(lambda: remote_images["count"] == 1)
    # 系统日志 → 系统通知消息 shows the notices again.
    await page.get_by_role("button", name="系统日志").click()
    await page.get_by_role("menuitem", name="系统通知消息").click()
    await expect(panel.locator("#side-title")).to_have_text("系统通知消息")
    await expect(panel.locator("#message-rows")).to_contain_text("库存通知")


async def test_the_panel_opened_from_its_bar_collapses_when_the_pointer_leaves(
    ui: UiPage, pool: Pool
) -> None:
    page = await ui.open()
    panel = page.locator("#side-panel")
    await page.locator("#side-collapse").click()
    await expect(panel).to_have_attribute("data-state", "collapsed")
    await ui.shot("panel-collapsed")
    await page.locator("#side-bar").click()
    await expect(panel).to_have_attribute("data-state", "open")
    await page.mouse.move(200, 400)
    await expect(panel).to_have_attribute("data-state", "collapsed")
    # Opened from the menu, it stays open.
    await page.locator("#messages-menu").click()
    await expect(panel).to_have_attribute("data-state", "open")
    await page.mouse.move(1300, 400)
    await page.mouse.move(200, 400)
    await asyncio.sleep(0.2)
    await expect(panel).to_have_attribute("data-state", "open")


async def test_the_follow_up_tab_saves_its_rule(ui: UiPage, pool: Pool) -> None:
    await customers(pool, 10)
    page = await ui.open()
    await page.get_by_role("tab", name="待跟进客户").click()
    rule = page.locator("#followup-rule")
    await expect(rule.locator("[name=followup_importance]")).to_have_value("3")
    grid = page.locator("#followup-grid")
    await expect(grid.locator(".total")).not_to_be_empty()
    before = await grid.locator("tbody tr[data-id]").count()
    await rule.locator("[name=followup_importance_operators]").select_option("=")
    await rule.locator("[name=followup_importance]").fill("5")
    await rule.locator("[name=followup_days]").fill("14")
    await rule.get_by_role("button", name="保存规则").click()
    await expect(grid.locator("tbody tr[data-id]")).not_to_have_count(before)
    for row in await grid.locator("tbody tr[data-id] .col-importance").all_text_contents():
        assert row == "5"
    stored = await config_table.load(pool)
    assert (
        stored["followup_importance_operators"],
        stored["followup_importance"],
        stored["followup_days"],
    ) == ("=", "5", "14")
    await ui.shot("followup")


async def test_statistics_charts(ui: UiPage, pool: Pool) -> None:
    await customers(pool, 30)
    await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject) VALUES ('x', NOW(), 'sendto', 's')",
    )
    page = await ui.open()
    await page.get_by_role("tab", name="数据统计").click()
    charts = page.locator("#stats-content svg")
    await expect(charts).to_have_count(2)
    await expect(page.locator("#stats-content rect.bar").first).to_be_visible()
    titles = await page.locator("#stats-content rect.bar title").all_text_contents()
    assert any(title.startswith("评级 5 · 有效") for title in titles)
    assert any("发出: 1" in title for title in titles)
    await ui.shot("statistics")


async def test_settings_keep_the_password_write_only(ui: UiPage, pool: Pool) -> None:
    await config_table.put(
        pool, {"mail_password": "imap-secret-42", "mail_host": "imap.example.com"}
    )
    page = await ui.open()
    assert "imap-secret-42" not in await page.content()
    await page.get_by_role("button", name="设置").click()
    await page.get_by_role("menuitem", name="参数设置").click()
    dialog = page.locator("#settings-dialog")
    await expect(dialog.locator("[name=mail_host]")).to_have_value("imap.example.com")
    await expect(dialog.locator("[name=mail_password]")).to_have_value("")
    await expect(dialog.locator("#s-password-state")).to_have_text("已设置；留空则不修改")
    await dialog.locator("[name=monitor_mail_days]").fill("20")
    await dialog.locator("[name=mail_port]").fill("70000")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog.locator(".field-error[data-for=mail_port]")).to_contain_text("1 到 65535")
    await ui.shot("settings-error")
    await dialog.locator("[name=mail_port]").fill("993")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).not_to_be_visible()
    stored = await config_table.load(pool)
    assert stored["monitor_mail_days"] == "20" and stored["mail_password"] == "imap-secret-42"


async def test_themes_change_the_whole_ui_and_are_remembered(ui: UiPage, pool: Pool) -> None:
    page = await ui.open()
    background = "getComputedStyle(document.querySelector('.topbar')).backgroundColor"
    default = await page.evaluate(background)
    await page.get_by_role("button", name="设置").click()
    themes = page.get_by_role("menuitemradio")
    await expect(themes).to_have_count(4)
    await page.get_by_role("menuitemradio", name="黑色").click()
    await expect(page.locator("html")).to_have_attribute("data-theme", "black")
    assert await page.evaluate(background) != default
    await ui.shot("theme-black")

    async def saved() -> bool:
        return await config_table.get(pool, "theme") == "black"

    await eventually(saved)
    await page.reload()
    await expect(page.locator("html")).to_have_attribute("data-theme", "black")


async def test_logs_refresh_in_their_tab_and_help_and_about_open(
    ui: UiPage, pool: Pool, config: Config
) -> None:
    job_logger("verify", config.log_dir).info("address=a@x.example outcome=valid")
    page = await ui.open()
    await page.get_by_role("button", name="系统日志").click()
    await page.get_by_role("menuitem", name="客户邮箱有效性检查日志").click()
    log = page.locator("#panel-log-verify .log-lines")
    await expect(log).to_contain_text("address=a@x.example outcome=valid")
    await expect(page.locator("#panel-log-verify .job-state")).to_contain_text("邮箱有效性检查")
    job_logger("verify", config.log_dir).info("address=b@x.example outcome=invalid")
    await expect(log).to_contain_text("address=b@x.example outcome=invalid", timeout=8000)
    await ui.shot("log-verify")
    await page.get_by_role("button", name="帮助").click()
    await page.get_by_role("menuitem", name="帮助").click()
    await expect(page.locator("#panel-help h1")).to_have_text("MyCRM 使用说明")
    await expect(page.locator("#panel-help")).to_contain_text("客户评级 0–5")
    await ui.shot("help")
    await page.locator("[data-close='help']").click()
    await expect(page.locator("#panel-help")).to_have_count(0)
    await page.get_by_role("button", name="帮助").click()
    await page.get_by_role("menuitem", name="关于").click()
    about = page.locator("#about-dialog")
    await expect(about).to_contain_text("mycrmd 0.1.0")
    await expect(about.get_by_role("link", name="阅读许可证全文")).to_have_attribute(
        "href", "/static/gpl-3.0.txt"
    )
    await ui.shot("about")


async def test_the_mail_sync_status_shows_the_ledger_and_its_totals(ui: UiPage, pool: Pool) -> None:
    await config_table.put(
        pool,
        {"mail_host": "127.0.0.1", "mail_port": "993", "mail_username": "me@x.example"},
    )
    account = "me@x.example@127.0.0.1:993"
    for folder, name, on_server, stored, duplicate, missing in (
        ("INBOX", "INBOX", 12000, 11990, 10, 0),
        ("&XfJT0ZAB-", "已发送", 431, 431, 0, 0),
        ("Old", "Old", 5, 0, 0, 0),
    ):
        await execute(
            pool,
            "INSERT INTO mail_folders (account, folder, name, uidvalidity, last_uid, synced_at, "
            "on_server, stored, skipped_duplicate, missing) "
            "VALUES (%s, %s, %s, 7, %s, NOW(), %s, %s, %s, %s)",
            (account, folder, name, on_server, on_server, stored, duplicate, missing),
        )
    await execute(
        pool,
        "UPDATE mail_folders SET stored = 0, skipped_excluded = 5 WHERE folder = 'Old'",
    )
    await execute(
        pool,
        "INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, on_server, missing) "
        "VALUES ('other@elsewhere:993', 'INBOX', 1, 9, 9, 9)",
    )
    page = await ui.open()
    await page.get_by_role("button", name="系统日志").click()
    await page.get_by_role("menuitem", name="邮件同步状态").click()
    view = page.locator("#panel-sync")
    await expect(view.locator(".sync-totals")).to_have_text("已核对 12,436 封，缺失 0")
    rows = view.locator("tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.filter(has_text="已发送")).to_contain_text("431")
    await expect(rows.filter(has_text="Old").locator("td").nth(4)).to_have_text("5")
    await ui.shot("mail-sync-status")


async def test_the_ui_speaks_english_when_asked(browser, client, screenshots) -> None:  # type: ignore[no-untyped-def]
    from tests.support.browser import new_page

    english = await new_page(
        browser, str(client.make_url("")).rstrip("/"), screenshots, locale="en-US"
    )
    page = await english.open()
    await expect(page.get_by_role("tab", name="Customers")).to_be_visible()
    await expect(page.get_by_role("button", name="Data", exact=True)).to_be_visible()
    await english.shot("english")
    await english.context.close()
    assert english.errors == []


async def test_a_failed_job_shows_beside_the_logs_menu_and_refreshes(
    ui: UiPage, pool: Pool
) -> None:
    failed = await job_runs.start_run(pool, "fetch", "schedule", 1)
    refusal = {"error": "login refused", "hint": {"zh": "登录被拒绝", "en": "Login refused"}}
    await job_runs.finish_run(pool, failed, RunStatus.FAILED, refusal)
    verify = await job_runs.start_run(pool, "verify", "schedule", 1)
    await job_runs.finish_run(pool, verify, RunStatus.FAILED, {"error": "DNS is not working"})
    await job_runs.record_skipped(pool, "verify", "schedule", 1, "less than 5 minutes")
    finished = await fetch_value(pool, "SELECT finished_at FROM job_runs WHERE id = %s", (failed,))
    page = await ui.open()
    badges = page.locator("#job-status .job-badge")
    fetch_badge = badges.filter(has_text="邮件监控")
    await expect(fetch_badge).to_have_text(f"邮件监控失败：登录被拒绝 ({finished:%H:%M})")
    await expect(fetch_badge).to_have_class("job-badge job-failed")
    await expect(badges).to_have_count(2)
    verify_badge = badges.filter(has_text="邮箱有效性检查")
    await expect(verify_badge).to_contain_text("邮箱有效性检查失败：DNS is not working (")
    logs_menu = await page.get_by_role("button", name="系统日志").bounding_box()
    status = await page.locator("#job-status").bounding_box()
    assert logs_menu and status and abs(status["x"] - (logs_menu["x"] + logs_menu["width"])) < 20
    await ui.shot("job-status-failed")
    done = await job_runs.start_run(pool, "backup", "schedule", 1)
    await job_runs.finish_run(pool, done, RunStatus.OK, {"files": 1})
    await expect(badges.filter(has_text="数据备份成功")).to_be_visible(timeout=15000)
    await fetch_badge.click()
    await expect(page.locator("#panel-log-fetch")).to_be_visible()
    await ui.shot("job-status-refreshed")


async def test_follow_up_shows_why_takes_a_cadence_snoozes_and_lists_awaiting_reply(
    ui: UiPage, pool: Pool
) -> None:
    ids = await customers(pool, 3)
    page = await ui.open()
    await page.get_by_role("tab", name="待跟进客户").click()
    grid = page.locator("#followup-grid")
    zhang = grid.locator(f"tbody tr[data-id='{ids[0]}']")
    await expect(zhang.locator(".col-due_rule")).to_have_text("超过 30 天未联系")
    await expect(zhang.locator(".col-days_since_contact")).to_have_text("从未")
    await expect(page.locator("#customers-grid thead th.reason")).to_have_count(0)
    rule = page.locator("#followup-rule")
    await rule.locator("[name=followup_days_by_importance]").fill('{"5": 14}')
    await rule.get_by_role("button", name="保存规则").click()
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(1)
    await expect(zhang.locator(".col-due_rule")).to_have_text("评级 5：每 14 天")
    assert await config_table.get(pool, "followup_days_by_importance") == '{"5": 14}'
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    await zhang.click()
    await grid.get_by_role("button", name="暂缓", exact=True).click()
    snooze = page.locator("#snooze-dialog")
    await snooze.locator("[name=until]").fill(tomorrow)
    await snooze.get_by_role("button", name="暂缓", exact=True).click()
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(0)
    snoozed = await fetch_value(
        pool, "SELECT snoozed_until FROM customers WHERE id = %s", (ids[0],)
    )
    assert snoozed.strftime("%Y-%m-%d") == tomorrow
    await execute(pool, "UPDATE customers SET snoozed_until = NULL")
    message = await insert(
        pool,
        "INSERT INTO messages (sender, date, type, subject, content) "
        "VALUES ('Anna', NOW() - INTERVAL 2 DAY, 'receive', 'Angebot?', '')",
    )
    await execute(
        pool,
        "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, 'anna@berlin.example')",
        (message,),
    )
    await page.locator("#followup-view").get_by_label("待回复").check()
    await expect(grid.locator("tbody tr[data-id]")).to_have_count(1)
    await expect(grid.locator(f"tbody tr[data-id='{ids[1]}']")).to_be_visible()
    await expect(rule).to_be_hidden()
    await ui.shot("awaiting-reply")


async def test_the_customer_and_company_pages_are_bookmarkable_and_linked(
    ui: UiPage, pool: Pool
) -> None:
    ids = await customers(pool, 3)
    colleague = await insert(
        pool,
        "INSERT INTO customers (name, email, company, valid, last_contact_date) "
        "VALUES ('李四', 'li@shanghai.example', '上海贸易', 1, NOW() - INTERVAL 3 DAY)",
    )
    for days, kind, subject, address in (
        (5, "sendto", "报价", "zhang@shanghai.example"),
        (4, "system", "Undelivered Mail Returned to Sender", "zhang@shanghai.example"),
        (3, "sendto", "跟进", "li@shanghai.example"),
    ):
        message = await insert(
            pool,
            "INSERT INTO messages (sender, date, type, subject, content) "
            "VALUES ('x', NOW() - INTERVAL %s DAY, %s, %s, '')",
            (days, kind, subject),
        )
        await execute(
            pool, "INSERT INTO msg_addrs (msg_id, address) VALUES (%s, %s)", (message, address)
        )
    page = await ui.open()
    await page.locator(f"#customers-grid tbody tr[data-id='{ids[0]}'] .col-id a").click()
    await expect(page).to_have_url(f"{ui.base}/customers/{ids[0]}")
    customer_page = page.locator("#customer-page")
    await expect(customer_page.locator(".mails tbody tr")).to_have_count(2)
    await expect(customer_page.locator(".mails tbody tr").first).to_contain_text("报价")
    await expect(customer_page.locator(".mails tbody tr").last).to_contain_text("Undelivered")
    await expect(customer_page.locator(".contacts")).to_contain_text("li@shanghai.example")
    await ui.shot("customer-page")
    await customer_page.locator(".field-company a").click()
    company_page = page.locator("#company-page")
    await expect(company_page.locator(".contacts tbody tr")).to_have_count(2)
    await expect(company_page.locator(".mails tbody tr")).to_have_count(3)
    await expect(company_page.locator(".mails tbody tr").last).to_contain_text("跟进")
    await expect(company_page.locator(".last-contact")).not_to_have_text("从未")
    await ui.shot("company-page")
    assert colleague
    missing = await page.goto(f"{ui.base}/customers/999999")
    assert missing is not None and missing.status == 404
