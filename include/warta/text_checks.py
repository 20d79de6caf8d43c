"""Characters no stored text may hold, checked once for every way text comes in (REST API,
desk, CLI): NUL, which PostgreSQL refuses in text columns, and lone surrogates (``\\ud800``
from a JSON escape), which are not characters and cannot be written out as UTF-8."""

from __future__ import annotations

import re

from warta.workflow import InvalidInput

_NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


def bad_character(text: str) -> str | None:
    """Why ``text`` cannot be stored, in Bahasa Indonesia and English; None when it can."""
    if _NUL in text:
        return "mengandung karakter NUL (\\u0000) / contains a NUL character (\\u0000)"
    match = _SURROGATE.search(text)
    if match:
        return (f"mengandung karakter tidak sah \\u{ord(match.group()):04x} (surrogate tunggal) / "
                f"contains an invalid character \\u{ord(match.group()):04x} (a lone surrogate)")
    return None


def check_characters(value: str | None, field: str) -> str | None:
    """``value`` unchanged, or InvalidInput (422) naming ``field``."""
    if value:
        problem = bad_character(value)
        if problem:
            raise InvalidInput(f"{field}: {problem}", field=field)
    return value
