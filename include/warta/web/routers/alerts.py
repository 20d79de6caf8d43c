"""``/api/v1/alerts``: reminders, breaches, escalations, freshness and publishing failures."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from warta.web import models
from warta.web.deps import ApiUser, Service

router = APIRouter(tags=["alerts"])


@router.get("/alerts", response_model=list[models.AlertOut])
def alerts(username: ApiUser, service: Service, mine: bool = True,
           limit: int = Query(50, ge=1, le=500)) -> list[dict[str, Any]]:
    """Recent alerts; by default those sent to the caller."""
    from warta.alert_log import recent_alerts

    return recent_alerts(service, username if mine else None, limit=limit)
