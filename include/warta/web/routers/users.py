"""``/api/v1/me``: the caller and their SOP roles."""

from __future__ import annotations

from fastapi import APIRouter

from warta.web import models
from warta.web.deps import ApiUser, Service

router = APIRouter(tags=["users"])


@router.get("/me", response_model=models.Me)
def me(username: ApiUser, service: Service) -> models.Me:
    return models.Me(username=username, roles=list(service.config.roles_of(username)))
