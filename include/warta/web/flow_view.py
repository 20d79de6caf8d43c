"""What the desk's flow partials (``_nav_alerts.html``, ``_channel_failures.html``,
``_claim.html``) read for the page they are on: template globals, so any page that
includes a partial gets its data without its route knowing."""

from __future__ import annotations

from typing import Any

from warta import desk_flow


def unread_alerts(page) -> int:
    return desk_flow.unread_count(page.service, page.username)


def failures(page, item_id: int | None = None) -> list[dict[str, Any]]:
    """Failed publications ("Gagal terbit"): the item's, or every open one for the role
    that publishes (the Operator's inbox)."""
    if item_id is None and page.config.step_of_kind("publish").role not in page.roles:
        return []
    return desk_flow.open_failures(page.service, item_id)


def can_retry(page) -> bool:
    return page.config.step_of_kind("publish").role in page.roles


def step_claim(page, item_id: int) -> dict[str, Any] | None:
    return desk_flow.current_claim(page.service, item_id)


GLOBALS = {"unread_alerts": unread_alerts, "channel_failures": failures, "can_retry": can_retry,
           "step_claim": step_claim}
