"""A failed publication's cause in plain words, from the error the channel gave.

The publishers raise their platform's answer as text (``"Website: wordpress: creating
the post: HTTP 429: ..."``); people need what happened and what to do, in their
language. The raw text stays available (the desk shows it behind a "detail" toggle).
"""

from __future__ import annotations

import re

# (cause, pattern), the first match wins: credentials before status codes, since an
# expired token answers 401/403 and says "fix Airflow Connection".
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("auth", re.compile(r"HTTP 40[13]\b|fix Airflow Connection|is not defined; create it|has no extra\.|"
                        r"expired|OAuthException|invalid[_ ]token|unauthori[sz]ed|access token", re.I)),
    ("rate_limit", re.compile(r"HTTP 429\b|throttl|rate.?limit|too many requests", re.I)),
    ("timeout", re.compile(r"no answer from|could not reach|timed? ?out|connection (refused|reset|error)|"
                           r"cannot reach|name or service not known", re.I)),
    ("server", re.compile(r"HTTP 5\d\d\b", re.I)),
    ("validation", re.compile(r"HTTP 4\d\d\b|invalid|not allowed|too (long|large)|duplicate", re.I)),
)

CAUSES: dict[str, tuple[str, str]] = {
    "auth": ("Izin akses kanal ditolak atau token kedaluwarsa. Perbarui kredensial di Airflow Connection "
             "kanal ini, lalu coba lagi.",
             "The channel refused the credentials or the token expired. Renew them in the channel's Airflow "
             "Connection, then try again."),
    "rate_limit": ("Kanal membatasi jumlah kiriman (terlalu banyak permintaan). Tunggu beberapa menit, "
                   "lalu coba lagi.",
                   "The channel is rate limiting (too many requests). Wait a few minutes, then try again."),
    "timeout": ("Kanal tidak menjawab atau tidak dapat dihubungi (waktu habis / koneksi gagal). Coba lagi "
                "sebentar lagi.",
                "The channel did not answer or could not be reached (timeout / connection failed). "
                "Try again shortly."),
    "server": ("Server kanal sedang bermasalah (galat 5xx di pihak platform). Coba lagi nanti.",
               "The channel's server is failing (a 5xx error on the platform's side). Try again later."),
    "validation": ("Kanal menolak isi kiriman (data tidak valid: misalnya teks terlalu panjang atau berkas "
                   "tidak diterima). Periksa naskah dan berkas, lalu coba lagi.",
                   "The channel refused the content (not valid: e.g. text too long or a file not accepted). "
                   "Check the manuscript and files, then try again."),
    "other": ("Publikasi gagal karena sebab lain. Lihat detail galat di bawah.",
              "Publishing failed for another reason. See the error detail below."),
}


def cause_of(error: str) -> str:
    """One of ``CAUSES``' keys for a publisher's error text."""
    for cause, pattern in _PATTERNS:
        if pattern.search(error or ""):
            return cause
    return "other"


def explain(error: str, lang: str = "id") -> dict[str, str]:
    """``{"cause": key, "text": plain words in lang}`` for a publisher's error text."""
    cause = cause_of(error)
    return {"cause": cause, "text": CAUSES[cause][1 if lang == "en" else 0]}
