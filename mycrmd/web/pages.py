"""HTML pages: the UI itself, the statistics and the help (full pages that read without
JavaScript; the UI's tabs load just their content), and a message's content for its
sandboxed frame."""

import functools
import json
from datetime import date
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from markdown_it import MarkdownIt

from mycrmd import __version__
from mycrmd.model import settings
from mycrmd.model.customer import BY_NAME, DEFAULT_COLUMNS, FIELDS, KEY_COLUMNS, Validity
from mycrmd.model.folders import ROLE_LABELS, FolderRole
from mycrmd.model.followup import AWAITING_HOURS, REASON_COLUMNS, REASON_SORTS
from mycrmd.model.message import MessageType
from mycrmd.model.words import Text
from mycrmd.safety.sanitize import clean_comment, clean_html
from mycrmd.store import config_table, customers, messages, stats
from mycrmd.store.pool import DatabaseUnavailable
from mycrmd.system.resources import resource
from mycrmd.web import charts
from mycrmd.web.api_stats import WEEKS
from mycrmd.web.catalog import catalog
from mycrmd.web.errors import ApiError
from mycrmd.web.i18n import request_language
from mycrmd.web.params import ID
from mycrmd.web.services import SERVICES


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", show_index_page)
    app.router.add_get("/stats", show_stats_page)
    app.router.add_get("/help", show_help_page)
    app.router.add_get("/messages/{id}/content", show_message_content)
    app.router.add_get("/customers/{id}", show_customer_page)
    app.router.add_get("/companies/{name}", show_company_page)


async def page_context(request: web.Request) -> dict[str, Any]:
    """Language, theme and words for any page; defaults when the database is down, so the
    UI still opens and can say so."""
    try:
        values = await config_table.load(request.app[SERVICES].pool)
    except DatabaseUnavailable:
        values = {}
    language = request_language(request, settings.text(values, "language"))
    texts = catalog(language)
    return {
        "lang": language,
        "theme": settings.text(values, "theme"),
        "t": texts.__getitem__,
        "texts_json": json.dumps(texts, ensure_ascii=False),
        "version": __version__,
        "login_enabled": bool(request.app[SERVICES].config.web.password_hash),
    }


def page_model(language: str) -> dict[str, Any]:
    """The model as the page's JavaScript needs it: fields, validity codes."""
    return {
        "fields": [
            {
                "name": field.name,
                "label": field.label.in_(language),
                "kind": field.kind.value,
                "editable": field.editable,
                "length": field.length,
                "choices": [int(choice) for choice in field.choices],
                "default": field.default,
            }
            for field in FIELDS
        ],
        "validity": {validity.name.lower(): int(validity) for validity in Validity},
        "key_columns": list(KEY_COLUMNS),
        # the follow-up grid's reasons are what it is for: shown there until a person chooses
        "default_columns": [*DEFAULT_COLUMNS, *REASON_COLUMNS],
    }


@aiohttp_jinja2.template("index.html")
async def show_index_page(request: web.Request) -> dict[str, Any]:
    context = await page_context(request)
    context["fields"] = FIELDS
    context["reason_columns"] = REASON_COLUMNS
    context["reason_sorts"] = REASON_SORTS
    context["awaiting_hours"] = AWAITING_HOURS
    context["field"] = BY_NAME
    context["settings"] = settings.BY_NAME
    context["themes"] = settings.THEMES
    context["skipped_folders"] = skipped_folders(
        request.app[SERVICES].config.mailbox.skip, context["lang"]
    )
    context["model_json"] = json.dumps(page_model(context["lang"]), ensure_ascii=False)
    return context


def skipped_folders(roles: tuple[str, ...], language: str) -> list[str]:
    """The special-use folders the sync leaves out, as the settings dialog names them: the
    choice is the configuration file's, so the dialog shows it rather than edits it."""
    return [ROLE_LABELS[FolderRole(role)].in_(language) for role in roles]


async def show_stats_page(request: web.Request) -> web.Response:
    """Customers by importance and validity, mail per week (R-ST1), as inline SVG."""
    context = await page_context(request)
    t = context["t"]
    pool = request.app[SERVICES].pool
    valid_names = {v: t(f"valid.{v:d}") for v in Validity}
    context["charts"] = [
        charts.importance_chart(
            await stats.customers_by_importance(pool),
            t("stats.importance"),
            valid_names,
            t("stats.level"),
        ),
        charts.weekly_chart(
            await stats.mails_per_week(pool, WEEKS, date.today()),
            t("stats.weekly"),
            {kind: t(f"msg.type.{kind}") for kind in (MessageType.SENDTO, MessageType.RECEIVE)},
            t("stats.no_mail"),
        ),
    ]
    name = "partials/stats.html" if request.query.get("part") == "content" else "stats.html"
    return aiohttp_jinja2.render_template(name, request, context)


async def show_customer_page(request: web.Request) -> web.Response:
    """Everything about one customer, bookmarkable: fields, comment, mails oldest first
    (bounce notices too), colleagues with their last contact."""
    pool = request.app[SERVICES].pool
    found = await customers.get(pool, ID.read(request))
    if found is None:
        raise ApiError(404, "not_found", Text("没有此客户", "no such customer"))
    company = str(found["company"] or "")
    context = await page_context(request)
    context["customer"] = found
    context["comment"] = clean_comment(str(found["comment"] or ""))
    context["fields"] = FIELDS
    context["mails"] = await messages.for_addresses(pool, [str(found["email"])])
    context["contacts"] = [
        row for row in await customers.of_company(pool, company) if row["id"] != found["id"]
    ]
    return aiohttp_jinja2.render_template("customer.html", request, context)


async def show_company_page(request: web.Request) -> web.Response:
    """A company's contacts, its last contact and its mails merged oldest first."""
    pool = request.app[SERVICES].pool
    name = request.match_info["name"]
    contacts = await customers.of_company(pool, name)
    if not contacts:
        raise ApiError(404, "not_found", Text("没有此公司", "no such company"))
    context = await page_context(request)
    context["company"] = name
    context["contacts"] = contacts
    context["last_contact"] = contacts[0]["last_contact_date"]
    context["mails"] = await messages.for_addresses(pool, [str(c["email"]) for c in contacts])
    return aiohttp_jinja2.render_template("company.html", request, context)


async def show_help_page(request: web.Request) -> web.Response:
    """The user's guide in the UI's language, rendered (R-UI1 帮助): each tab, menu and
    setting as MyCRM's help described them; the developer README is for developers."""
    context = await page_context(request)
    context["guide"] = guide_html(context["lang"])
    name = "partials/help.html" if request.query.get("part") == "content" else "help.html"
    return aiohttp_jinja2.render_template(name, request, context)


@functools.cache
def guide_html(language: str) -> str:
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    guide = resource("templates") / "guide" / f"{language}.md"
    return clean_html(markdown.render(guide.read_text(encoding="utf-8")))


async def show_message_content(request: web.Request) -> web.Response:
    """A message's (sanitised) HTML as a document of its own, for a sandboxed frame: no
    script at all, and remote images only when the user asked for them (?images=1)."""
    found = await messages.get(request.app[SERVICES].pool, ID.read(request))
    if found is None:
        raise ApiError(404, "not_found", Text("没有此消息", "no such message"))
    images = "img-src data: https: http:" if request.query.get("images") == "1" else "img-src data:"
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; {images}; font-src data:; "
        "form-action 'none'; base-uri 'none'; frame-ancestors 'self'; "
        "sandbox allow-popups allow-popups-to-escape-sandbox"
    )
    body = (
        '<!doctype html><html><head><meta charset="utf-8"><base target="_blank">'
        f"<title>{found['id']}</title></head><body>{found['content'] or ''}</body></html>"
    )
    return web.Response(
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": policy,
            "Cache-Control": "no-store",
            "X-Frame-Options": "SAMEORIGIN",
        },
    )
