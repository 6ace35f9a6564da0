"""数据管理 in a real Chromium: uploading a CSV (progress, the result, the rejected rows as a
CSV to fix and upload again) and downloading exports."""

import asyncio
import csv
import io

from playwright.async_api import expect

from mycrmd.store.pool import Pool, fetch_value, insert
from tests.support.browser import UiPage

GBK_FILE = (
    "联系人,邮箱,客户评级,公司\r\n"
    "王小明,wang@ui.example,4,广州贸易\r\n"
    '李华,"li@ui.example; hua@ui.example",3,深圳贸易\r\n'
    "坏行,not-an-address,1,\r\n"
    "张三,zhang@ui.example,8,上海\r\n"
).encode("gbk")


async def test_upload_shows_the_result_and_offers_the_rejected_rows(ui: UiPage, pool: Pool) -> None:
    await insert(pool, "INSERT INTO customers (email, name) VALUES ('old@ui.example', 'Old')")
    page = await ui.open()
    await page.get_by_role("button", name="数据管理").click()
    await page.get_by_role("menuitem", name="批量上传客户记录").click()
    dialog = page.locator("#import-dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name="上传").click()
    await expect(dialog.locator('[data-for="csv_file"]')).to_have_text("请先选择文件")

    await page.set_input_files(
        "#import-file", files=[{"name": "客户.csv", "mimeType": "text/csv", "buffer": GBK_FILE}]
    )
    await dialog.get_by_label("只检查，不导入").check()
    await dialog.get_by_role("button", name="上传").click()
    status = dialog.locator("#import-status")
    await expect(status).to_contain_text("检查完成，未写入：共 4 行，将新增 3")
    assert await fetch_value(pool, "SELECT COUNT(*) FROM customers") == 1

    await dialog.get_by_label("只检查，不导入").uncheck()
    await dialog.get_by_role("button", name="上传").click()
    await expect(status).to_have_text(
        "完成：共 4 行，新增 3，更新 0，未变 0，拒绝 2（GB18030 (GBK)）"
    )
    rejected = dialog.locator("#import-rejected tr")
    await expect(rejected).to_have_count(2)
    await expect(rejected.nth(0)).to_contain_text(
        "4邮箱邮箱地址无效: not-an-address（缺少 @ 符号）"
    )
    await expect(rejected.nth(1)).to_contain_text("5客户评级客户评级必须是 0-5 的整数")
    await ui.shot("import-result")
    async with page.expect_download() as waiting:
        await dialog.get_by_role("link", name="下载被拒绝的行").click()
    download = await waiting.value
    text = (await asyncio.to_thread((await download.path()).read_bytes)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["联系人", "邮箱", "客户评级", "公司", "错误原因"]
    assert rows[1][:4] == ["坏行", "not-an-address", "1", ""]
    assert rows[2][:4] == ["张三", "zhang@ui.example", "8", "上海"]

    # fixed, the rejected file goes back in; its error column is ignored and said so
    fixed = text.replace("not-an-address", "bad@ui.example").replace(",8,", ",5,")
    await page.set_input_files(
        "#import-file",
        files=[{"name": "fixed.csv", "mimeType": "text/csv", "buffer": fixed.encode("utf-8-sig")}],
    )
    await dialog.get_by_role("button", name="上传").click()
    await expect(status).to_have_text(
        "完成：共 2 行，新增 2，更新 0，未变 0，拒绝 0（UTF-8 (BOM)）"
    )
    await expect(dialog.locator("#import-notes")).to_have_text("忽略的列：错误原因")
    await dialog.get_by_role("button", name="取消").click()
    grid = page.locator("#customers-grid")
    await expect(grid.locator(".total")).to_have_text("共 6 条记录")
    await expect(grid.locator("tr", has_text="zhang@ui.example")).to_contain_text("上海")


async def test_a_refused_file_shows_why(ui: UiPage) -> None:
    page = await ui.open()
    await page.get_by_role("button", name="数据管理").click()
    await page.get_by_role("menuitem", name="批量上传客户记录").click()
    await page.set_input_files(
        "#import-file",
        files=[{"name": "x.csv", "mimeType": "text/csv", "buffer": b"Name,Company\nBob,Acme\n"}],
    )
    dialog = page.locator("#import-dialog")
    await dialog.get_by_role("button", name="上传").click()
    await expect(dialog.locator('[data-for="csv_file"]')).to_contain_text("no email column")


async def test_exports_download_as_named_csv_files(ui: UiPage, pool: Pool) -> None:
    for email, name, valid in (("a@dl.example", "甲", 1), ("b@dl.example", "乙", 0)):
        await insert(
            pool,
            "INSERT INTO customers (email, name, valid) VALUES (%s, %s, %s)",
            (email, name, valid),
        )
    page = await ui.open()
    await page.locator("#customers-grid .search").fill("乙")
    await expect(page.locator("#customers-grid .total")).to_have_text("共 1 条记录")
    for item, expected in (("导出所有客户记录", ["甲", "乙"]), ("导出当前列表记录", ["乙"])):
        await page.get_by_role("button", name="数据管理").click()
        async with page.expect_download() as waiting:
            await page.get_by_role("menuitem", name=item).click()
        download = await waiting.value
        assert download.suggested_filename.endswith(".csv")
        body = await asyncio.to_thread((await download.path()).read_bytes)
        assert body.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        assert [row[0] for row in rows[1:]] == expected, item


async def test_the_follow_up_tabs_current_export_is_its_grid(ui: UiPage, pool: Pool) -> None:
    """导出当前列表记录 on 待跟进客户 exports that list with its rule, search and sort, not
    every customer (issue 15 item 7): the downloaded rows equal the grid's, in its order."""
    rows = [
        ("甲", "a@due.example", 5, "甲公司", 1),
        ("乙", "b@due.example", 4, "乙公司", 2),
        ("丙", "c@due.example", 1, "丙公司", 1),  # importance below the rule: not due
        ("丁", "d@due.example", 5, "丁公司", 0),  # invalid: not due
        ("戊", "e@other.example", 5, "戊公司", 1),  # due, but not found by the search
    ]
    for name, email, importance, company, valid in rows:
        await insert(
            pool,
            "INSERT INTO customers (name, email, importance, company, valid) "
            "VALUES (%s, %s, %s, %s, %s)",
            (name, email, importance, company, valid),
        )
    page = await ui.open()
    await page.get_by_role("tab", name="待跟进客户").click()
    grid = page.locator("#followup-grid")
    await grid.locator(".search").fill("due.example")
    await expect(grid.locator(".total")).to_have_text("共 2 条记录")
    await grid.locator("thead th[data-sort=email] button").click()
    await grid.locator("thead th[data-sort=email] button").click()
    await expect(grid.locator("thead th[data-sort=email]")).to_have_attribute(
        "aria-sort", "descending"
    )
    shown = await grid.locator("tbody tr[data-id] .col-email").all_text_contents()
    assert shown == ["b@due.example", "a@due.example"]
    await page.get_by_role("button", name="数据管理").click()
    async with page.expect_download() as waiting:
        await page.get_by_role("menuitem", name="导出当前列表记录").click()
    download = await waiting.value
    body = await asyncio.to_thread((await download.path()).read_bytes)
    exported = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert [row[1] for row in exported[1:]] == shown
    await ui.shot("followup-export-current")
