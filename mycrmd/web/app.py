"""The aiohttp application: templates, static files, middlewares and routes."""

import aiohttp_jinja2
import jinja2
from aiohttp import web

from mycrmd import __version__
from mycrmd.system.resources import resource
from mycrmd.web import login, openapi, pages
from mycrmd.web.api import add_health_probe
from mycrmd.web.errors import error_middleware
from mycrmd.web.routes import add_endpoints
from mycrmd.web.security import (
    only_our_host,
    refuse_cross_site,
    require_login,
    security_headers,
)
from mycrmd.web.services import SERVICES, Services


def create_app(services: Services) -> web.Application:
    app = web.Application(
        middlewares=[
            only_our_host,
            security_headers,
            error_middleware,
            refuse_cross_site,
            require_login,
        ]
    )
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(resource("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.globals["version"] = __version__
    app[SERVICES] = services
    app.router.add_static("/static/", resource("static"))
    add_health_probe(app)
    add_endpoints(app, openapi.SERVED)
    pages.add_routes(app)
    login.add_routes(app)
    return app
