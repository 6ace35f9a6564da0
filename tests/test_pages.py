"""The HTML pages: every template compiles, none holds inline script or style, headers are
strict, the language follows the request, help and statistics read without JavaScript."""

import re

import jinja2
import pytest
from aiohttp.test_utils import TestClient

from mycrmd.store import config_table
from mycrmd.store.pool import Pool, insert
from mycrmd.system.resources import resource
from mycrmd.web.security import APP_POLICY

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


async def test_help_renders_the_readme(client: TestClient) -> None:
    html = await (await client.get("/help")).text()
    assert (
        "<h1>mycrmd</h1>" in html
        and "<table>" in html
        and "<code>mycrmd check-config</code>" in html
    )
    part = await (await client.get("/help?part=content")).text()
    assert part.startswith('<article class="help">') and "<html" not in part


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
