"""The one reading of ``Retry-After`` (RFC 9110 §10.2.3) for every HTTP client of Warta:
the channels' transport (``warta.channels.api``) and Airflow's REST API client
(``warta.airflow_api``). Both retry with tenacity."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: it is either a number or an HTTP date
    (None when absent or unreadable)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
