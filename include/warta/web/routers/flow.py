"""Whose turn it is, over the API: step claims ("Saya kerjakan"/"Lepaskan"), the caller's
alerts with their read state, failed publications and their retry ("Coba lagi").

    POST   /api/v1/items/{id}/steps/{step}/claim     take the waiting step (409: someone has it)
    DELETE /api/v1/items/{id}/steps/{step}/claim     release it
    GET    /api/v1/me/alerts                         my alerts, newest first, read or not
    POST   /api/v1/me/alerts/read                    mark some (ids) or all read
    GET    /api/v1/failures                          publications that failed ("Gagal terbit")
    POST   /api/v1/items/{id}/publications/{channel}/retry   publish that channel again, once
"""

from __future__ import annotations

from typing import Annotated, Any, Callable

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from warta import desk_flow
from warta.service import MAX_ROW_ID
from warta.web.deps import ApiUser, Service
from warta.web.models import RowId
from warta.workflow import Conflict, WorkflowError

router = APIRouter(tags=["flow"])


# ------------------------------------------------------------------ models
class ClaimOut(BaseModel):
    item_id: int
    round: int
    step: str
    username: str
    full_name: str
    claimed_at: str


class ReleaseOut(BaseModel):
    released: bool = Field(description="false when nobody held the step")
    item_id: int
    step: str


class Delivery(BaseModel):
    channel: str
    address: str
    status: str


class MyAlert(BaseModel):
    id: int
    kind: str = Field(description="handoff, rejection, reminder, breach, escalation, freshness, publish_failure, ...")
    step: str | None
    round: int | None
    item_id: int | None
    item_title: str | None
    subject: str
    message: str
    link: str
    publishing_channel: str | None
    created_at: str
    sent_at: str | None
    read: bool
    reason: str | None = Field(None, description="a rejection's reason")
    recipients: list[str]
    delivered: list[Delivery]


class MyAlerts(BaseModel):
    total: int
    unread: int
    limit: int
    offset: int
    alerts: list[MyAlert]


class MarkRead(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]] | None = Field(
        None, max_length=500, description="the alerts to mark read; omitted: all of mine")


class MarkedRead(BaseModel):
    marked: int
    unread: int


class Failure(BaseModel):
    item_id: int
    title: str
    round: int
    channel: str
    channel_name_id: str
    channel_name_en: str
    cause: str = Field(description="auth, rate_limit, timeout, validation, server or other")
    cause_id: str
    cause_en: str
    error: str = Field(description="the channel's own error text")
    attempts: int
    failed_at: str | None


class RetryOut(BaseModel):
    item_id: int
    channel: str
    run_id: str
    task_id: str
    map_index: int
    retrying: bool


class AirflowUnavailable(WorkflowError):
    status = 503
    code = "airflow_unavailable"


# ------------------------------------------------------------------ Airflow
TaskClearer = Callable[[str, str, str, int], Any]


def task_clearer() -> TaskClearer:
    """Clears a failed mapped task instance through Airflow's REST API (the run outbox's
    Connection ``warta_airflow_api``); tests give their own."""

    def clear(dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
        from warta.airflow_api import AirflowApi, AirflowApiError, AirflowTaskRunning

        try:
            return AirflowApi.from_connection().clear_failed_task(dag_id, run_id, task_id, map_index,
                                                                  note="Coba lagi dari desk Warta")
        except AirflowTaskRunning as exc:
            raise Conflict(f"the retry is running already: {exc}") from None
        except AirflowApiError as exc:
            raise AirflowUnavailable(f"Airflow did not clear the task: {exc}") from None

    return clear


Clearer = Annotated[TaskClearer, Depends(task_clearer)]


# ------------------------------------------------------------------ routes
@router.post("/items/{item_id}/steps/{step_id}/claim", response_model=ClaimOut)
def claim(item_id: RowId, step_id: str, username: ApiUser, service: Service) -> dict[str, Any]:
    """"Saya kerjakan": take the step the item waits at, so others see who has it.
    409 when someone else has it; taking one's own claim again answers it unchanged."""
    return desk_flow.claim_step(service, item_id, step_id, username)


@router.delete("/items/{item_id}/steps/{step_id}/claim", response_model=ReleaseOut)
def release(item_id: RowId, step_id: str, username: ApiUser, service: Service) -> dict[str, Any]:
    """"Lepaskan": give the step back to the role's queue (only its holder, or an admin)."""
    return desk_flow.release_step(service, item_id, step_id, username)


@router.get("/me/alerts", response_model=MyAlerts)
def my_alerts(username: ApiUser, service: Service, unread: bool = False,
              limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9)) -> dict[str, Any]:
    """The alerts that reached the caller (hand-offs, rejections, reminders, ...), newest
    first, each with whether the caller has read it; ``unread`` counts the unread ones."""
    return desk_flow.user_alerts(service, username, unread_only=unread, limit=limit, offset=offset)


@router.post("/me/alerts/read", response_model=MarkedRead)
def mark_read(payload: MarkRead, username: ApiUser, service: Service) -> dict[str, Any]:
    """Mark alerts read for the caller only (others' reads are their own). Idempotent."""
    return desk_flow.mark_read(service, username, payload.ids)


@router.get("/failures", response_model=list[Failure])
def failures(username: ApiUser, service: Service,
             item_id: int | None = Query(None, ge=1, le=MAX_ROW_ID)) -> list[dict[str, Any]]:
    """Publications that failed and wait for someone, with the cause in plain words."""
    return desk_flow.open_failures(service, item_id)


@router.post("/items/{item_id}/publications/{channel}/retry", response_model=RetryOut)
async def retry(item_id: RowId, channel: str, username: ApiUser, service: Service,
                clear: Clearer) -> dict[str, Any]:
    """"Coba lagi": publish the failed channel again, exactly once, by clearing its
    mapped task instance in Airflow (recorded in the audit trail). 409 while a retry is
    under way (the publication is no longer failed) or the task is running."""
    return await run_in_threadpool(desk_flow.retry_publication, service, item_id, channel, username, clear)
