"""Showing what changed between two manuscript versions (the reviewer's corrections).

Word-level, built on difflib: removed words in ``<del>``, added words in ``<ins>``, line
breaks kept, so it reads on a phone as well as on a desktop (no side-by-side table).
"""

from __future__ import annotations

import difflib
import html
import re

_TOKENS = re.compile(r"\s+|[^\s]+")


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


def word_diff_html(old: str, new: str) -> str:
    """HTML (escaped text plus <del>/<ins>) of the changes from ``old`` to ``new``."""
    before, after = _tokens(old), _tokens(new)
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    parts = []
    for operation, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        removed = html.escape("".join(before[a_start:a_end]))
        added = html.escape("".join(after[b_start:b_end]))
        if operation == "equal":
            parts.append(removed)
        else:
            if removed:
                parts.append(f"<del>{removed}</del>")
            if added:
                parts.append(f"<ins>{added}</ins>")
    return "".join(parts)


def unified_diff(old: str, new: str, old_label: str, new_label: str) -> str:
    """The classic line diff, for tools and the API."""
    return "".join(
        difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
            fromfile=old_label, tofile=new_label,
        )
    )


def changed(old: str, new: str) -> bool:
    return (old or "").strip() != (new or "").strip()
