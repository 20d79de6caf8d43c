"""Warta's web layer: the REST API and the desk (the pages people work in), one FastAPI
app (``warta.web.app.create_app``) with a router per resource (``warta.web.routers``),
shared dependencies (``warta.web.deps``) and the API's pydantic models
(``warta.web.models``). This module renders the desk's pages: templates, static files,
language and local time.

Pages are rendered on the server (Jinja2, autoescaped) and work without JavaScript.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from warta.web.i18n import LANGUAGES, MONTHS, translate

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"


def local_datetime(value: str | datetime | None, lang: str, tz: str = "Asia/Jakarta") -> str:
    """'26 Nov 2026, 08.00 WIB' (Indonesian) or '26 Nov 2026, 08:00 WIB' (English)."""
    if not value:
        return "–"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    local = moment.astimezone(ZoneInfo(tz))
    clock = local.strftime("%H.%M") if lang == "id" else local.strftime("%H:%M")
    return f"{local.day} {MONTHS[lang][local.month - 1]} {local.year}, {clock} WIB"


def local_date(value: str | date | None, lang: str) -> str:
    if not value:
        return "–"
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day.day} {MONTHS[lang][day.month - 1]} {day.year}"


def duration(seconds: float | int | None, lang: str) -> str:
    """A span of time in words, largest two units: '1 hari 2 jam', '45 menit'."""
    if seconds is None:
        return "–"
    seconds = abs(int(seconds))
    units = (("day", 86400), ("hour", 3600), ("minute", 60))
    parts = []
    for name, size in units:
        if seconds >= size:
            parts.append(translate(lang, f"unit_{name}", n=seconds // size))
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts) if parts else translate(lang, "unit_less_than_minute")


def file_size(size: int | None) -> str:
    size = size or 0
    for unit in ("B", "KB", "MB"):
        if size < 1024 or unit == "MB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.filters["filesize"] = file_size
    return env


def render(template: str, lang: str, **context) -> str:
    """Render a page in ``lang``: ``t``, ``when``, ``day`` and ``span`` are the page's
    translation and local-time helpers."""
    page = environment().get_template(template)
    return page.render(
        lang=lang,
        t=lambda key, **kw: translate(lang, key, **kw),
        when=lambda value: local_datetime(value, lang),
        day=lambda value: local_date(value, lang),
        span=lambda seconds: duration(seconds, lang),
        **context,
    )
