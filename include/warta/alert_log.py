"""Reading the alerts Warta raised (what the desk's inbox and alert list show). Apart from
``warta.alerts``, which raises and sends them, so the service can read alerts without an
import circle."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from warta.models import Alert

STEP_ALERT_KINDS = ("reminder", "breach", "escalation")
# The desk's "menunggu Anda" (a step handed on) and a rejection back to the author: not
# service-level events, so neither the inbox's step alerts nor the report count them.
DESK_ALERT_KINDS = ("handoff", "rejection")
StepKey = tuple[int, int, str]  # (item id, round, step id)


def alerts_by_step(service, keys: list[StepKey]) -> dict[StepKey, list[dict]]:
    """The alerts raised for each (item, round, step): what the desk inbox shows."""
    item_ids = sorted({k[0] for k in keys})
    result: dict[StepKey, list[dict]] = {k: [] for k in keys}
    if not item_ids:
        return result
    with service.sessions() as session:
        rows = session.scalars(
            select(Alert).where(Alert.item_id.in_(item_ids), Alert.kind.in_(STEP_ALERT_KINDS)).order_by(Alert.id)
        ).all()
        for alert in rows:
            key = (alert.item_id, alert.round, alert.step_id)
            if key in result:
                result[key].append(alert_summary(alert))
    return result


def recent_alerts(service, username: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest alerts, or those that reached ``username``: the desk's alert list, which
    also shows what the step inbox cannot (freshness warnings, publishing failures)."""
    found: list[dict[str, Any]] = []
    with service.sessions() as session:
        # Recipients are a JSON list; filtering in Python keeps the query portable.
        for alert in session.scalars(select(Alert).order_by(Alert.id.desc()).limit(max(limit, 1) * 20)):
            if username is None or username in alert.recipients:
                found.append(alert_summary(alert) | {
                    "item_id": alert.item_id, "message": alert.message, "link": alert.link,
                    "publishing_channel": alert.publishing_channel,
                })
                if len(found) >= limit:
                    break
    return found


def alert_summary(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "step": alert.step_id,
        "round": alert.round,
        "recipients": list(alert.recipients),
        "subject": alert.subject,
        "created_at": alert.created_at.isoformat(),
        "sent_at": alert.sent_at.isoformat() if alert.sent_at else None,
        "delivered": [
            {"channel": d["channel"], "address": d["address"], "status": d["status"]} for d in alert.deliveries
        ],
    }
