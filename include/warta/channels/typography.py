"""Comparing what a platform shows with what was approved: WordPress typesets titles
(wptexturize: curly quotes, dashes, ×), and the social platforms echo the text they were
sent. Every channel's online check compares through ``comparable``."""

from __future__ import annotations

import re

# What wptexturize() prints for plain characters, mapped back: quotes, primes, dashes,
# the multiplication sign between numbers, ellipsis, trade mark, no-break space.
_PLAIN_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u00a0": " ", "\u2032": "'", "\u2033": '"', "\u00d7": "x",
})


def comparable(text: str) -> str:
    """Visible text up to WordPress's typography (wptexturize, capital_P_dangit), for comparing."""
    text = text.replace("\u2026", "...").replace("\u2122", "(tm)").translate(_PLAIN_TYPOGRAPHY)
    text = text.replace("``", '"').replace("''", '"')
    text = re.sub(r"-{2,}", "-", text)
    return " ".join(text.casefold().split())


def same_typography(shown: str, approved: str) -> bool:
    """Whether ``shown`` (text a platform rendered) is ``approved`` up to WordPress's typography."""
    return comparable(shown) == comparable(approved)
