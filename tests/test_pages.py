"""The HTML pages: every template compiles, none holds inline script or style, headers are
strict, the language follows the request, help and statistics read without JavaScript."""

import re
from dataclasses import replace

import jinja2
import pytest
from aiohttp.test_utils import TestClient

from mycrmd.config import Config
from mycrmd.model.customer import Validity
from mycrmd.model.settings import SETTINGS
from mycrmd.store import config_table
from mycrmd.store.pool import Pool, insert
from mycrmd.system.resources import resource
from mycrmd.web.catalog import catalog
from mycrmd.web.security import APP_POLICY
from tests.support.app_client import serving

TEMPLATES = sorted(
    path.relative_to(resource("templates")).as_posix()
    for path in resource("templates").rglob("*.html")
)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_compiles(name: str) -> None:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(resource("templates")), autoescape=True
    )
    environment.get_template(name)


@pytest.mark.parametrize("name", TEMPLATES)
def test_no_template_has_inline_script_style_or_handlers(name: str) -> None:
    text = (resource("templates") / name).read_text(encoding="utf-8")
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text, "inline <style>"
    assert not re.search(r"\sstyle=", text), "style attribute"
    assert not re.search(r"\son[a-z]+=", text, re.IGNORECASE), "event handler attribute"
    assert "javascript:" not in text


def test_no_script_sets_inline_styles_or_evaluates_strings() -> None:
    for path in resource("static").rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*[\"'`]", text), path.name
        assert ".style." not in text and 'setAttribute("style"' not in text, path.name


async def test_the_ui_page_has_the_menus_tabs_and_panel_in_chinese(client: TestClient) -> None:
    response = await client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert response.status == 200
    assert response.headers["Content-Security-Policy"] == APP_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = await response.text()
    for label in (
        "数据管理",
        "系统日志",
        "设置",
        "帮助",
        "我的消息(",
        "客户管理",
        "待跟进客户",
        "数据统计",
        "导出所有客户记录",
        "批量上传客户记录",
        "客户邮箱有效性检查日志",
        "邮箱近期邮件的监控日志",
        "参数设置",
        "外观主题",
        "关于",
        "系统通知消息",
        "联系人",
        "客户评级",
        "最近联系时间",
        "有效性",
    ):
        assert label in html, label
    assert 'lang="zh-CN"' in html and 'data-theme="default"' in html


async def test_english_by_accept_language_by_cookie_or_by_the_setting(
    client: TestClient, pool: Pool
) -> None:
    english = await (await client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})).text()
    assert "Customers" in english and "客户管理" not in english
    assert (
        "客户管理"
        in await (await client.get("/?lang=zh", headers={"Accept-Language": "en"})).text()
    )
    await config_table.put(pool, {"language": "en", "theme": "black"})
    setting = await (await client.get("/", headers={"Accept-Language": "zh-CN"})).text()
    assert "Customers" in setting and 'data-theme="black"' in setting


async def test_help_is_the_users_guide_in_the_uis_language(client: TestClient) -> None:
    html = await (await client.get("/help", headers={"Accept-Language": "zh-CN"})).text()
    assert "<h1>MyCRM 使用说明</h1>" in html and "<table>" in html
    assert "tests/run.sh" not in html, "not the developer README"
    english = await (await client.get("/help?lang=en")).text()
    assert "<h1>Using MyCRM</h1>" in english
    part = await (await client.get("/help?part=content")).text()
    assert part.startswith('<article class="help">') and "<html" not in part


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_guide_covers_every_menu_setting_and_mark_and_its_links_resolve(
    client: TestClient, language: str
) -> None:
    """Every tab, menu item and 参数设置 setting is in the guide under the name the UI shows,
    with importance 0–5 and the row marks; every link in it answers 200."""
    texts = catalog(language)
    html = await (await client.get(f"/help?part=content&lang={language}")).text()
    named = [texts[key] for key in texts if key.startswith(("menu.", "tab."))]
    named += [texts[f"settings.{s.name}"] for s in SETTINGS if s.edited_in == "parameters"]
    named += [texts[f"valid.{int(v)}"] for v in Validity]
    for name in named:
        if name not in ("关闭", "Close", "退出登录", "Log out"):
            assert name in html, name
    assert "0–5" in html
    links = re.findall(r'href="([^"]+)"', html)
    assert len(links) >= 3
    for link in links:
        assert link.startswith("/"), f"{link}: the guide links only to the app"
        response = await client.get(link.replace("&amp;", "&"))
        assert response.status == 200, link


async def test_statistics_read_without_javascript_with_values_on_hover(
    client: TestClient, pool: Pool
) -> None:
    await insert(
        pool, "INSERT INTO customers (email, importance, valid) VALUES ('a@x.example', 4, 1)"
    )
    html = await (await client.get("/stats", headers={"Accept-Language": "zh"})).text()
    assert "<svg" in html and "<script" not in html
    assert "<title>评级 4 · 有效: 1</title>" in html
    part = await (await client.get("/stats?part=content")).text()
    assert part.lstrip().startswith('<div class="charts">')


async def test_static_files_and_the_licence_are_served(client: TestClient) -> None:
    for path in (
        "/static/css/app.css",
        "/static/js/main.js",
        "/static/gpl-3.0.txt",
        "/static/favicon.svg",
    ):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "GNU GENERAL PUBLIC LICENSE" in await (await client.get("/static/gpl-3.0.txt")).text()


async def test_an_unknown_page_is_404_with_the_headers(client: TestClient) -> None:
    response = await client.get("/nowhere")
    assert response.status == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_settings_dialog_shows_which_special_folders_are_not_synced(
    pool: Pool, config: Config
) -> None:
    async with serving(pool, config) as client:
        page = await (await client.get("/", headers={"Accept-Language": "zh-CN"})).text()
    shown = re.search(r'<div id="s-skip">(.*?)</div>', page, re.S)
    assert shown and "垃圾邮件、已删除、草稿、所有邮件" in shown.group(1)
    assert "[mailbox] skip" in shown.group(1)
    only_spam = replace(config, mailbox=replace(config.mailbox, skip=("junk",)))
    async with serving(pool, only_spam) as client:
        page = await (await client.get("/", headers={"Accept-Language": "en"})).text()
    shown = re.search(r'<div id="s-skip">(.*?)</div>', page, re.S)
    assert shown and "Junk" in shown.group(1) and "Trash" not in shown.group(1)
