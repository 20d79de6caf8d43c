"""Warta's web layer: the REST API and the desk (the pages people work in), one FastAPI
app (``warta.web.app.create_app``) with a router per resource (``warta.web.routers``),
shared dependencies (``warta.web.deps``) and the API's pydantic models
(``warta.web.models``). This module renders the desk's pages: templates, static files,
language and local time (formatted by ``warta.formatting`` in the SOP's timezone).

Pages are rendered on the server (Jinja2, autoescaped) and work without JavaScript.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from warta.config import get_config
from warta.formatting import formatter
from warta.web.i18n import LANGUAGES, translate

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def file_size(size: int | None, lang: str) -> str:
    return formatter(lang, "UTC").file_size(size)


@pass_context
def _file_size_filter(context, size: int | None) -> str:
    return file_size(size, context.get("lang", "id"))


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.filters["filesize"] = _file_size_filter
    from warta.web.flow_view import GLOBALS as FLOW_GLOBALS

    env.globals.update(FLOW_GLOBALS)  # the flow partials' data (unread count, failures, claims)
    return env


def render(template: str, lang: str, **context) -> str:
    """Render a page in ``lang``: ``t``, ``when``, ``day`` and ``span`` are the page's
    translation and local-time helpers."""
    page = environment().get_template(template)
    formats = formatter(lang, get_config().timezone)
    return page.render(
        lang=lang,
        t=lambda key, **kw: translate(lang, key, **kw),
        when=formats.medium_datetime,
        day=formats.medium_date,
        span=formats.duration,
        **context,
    )
