"""What the REST API takes and answers, as pydantic models: the OpenAPI document
describes every request and response (the fuzz test checks each answer against it), and
the errors' one shape."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from warta.service import MAX_ROW_ID

# Row ids (and versions) in paths: 64-bit in every database Warta runs on.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


class _Open(BaseModel):
    # Answers may carry more fields than described (added later without breaking clients).
    model_config = ConfigDict(extra="allow")


# ------------------------------------------------------------------ requests
class NewItem(BaseModel):
    title: str = Field(description="Judul berita / kegiatan")
    activity_date: date | None = Field(None, description="Tanggal kegiatan (YYYY-MM-DD)")
    place: str = ""
    service: str = Field("lainnya", description="Layanan terkait (Keterkaitan SOP)")
    notes: str = ""
    channels: list[str] | None = Field(None, description="Kanal; default dari config")
    submission_key: str | None = Field(None, description="Kunci pengiriman: kirim dua kali = satu berita")
    coverage_complete: bool = Field(False, description="Liputan sudah lengkap: langkah 1 tercatat dengan catatan dan berkas ini")


class IntakeForm(BaseModel):
    """The multipart intake's text fields (``POST /api/v1/intake``); the service checks them."""

    title: str = Field("", description="Judul kegiatan (required)")
    activity_date: str | None = Field(None, description="Tanggal kegiatan (YYYY-MM-DD)")
    place: str = ""
    service: str = "lainnya"
    notes: str = ""
    channels: list[str] | None = Field(None, description="repeat the field for several channels")
    submission_key: str | None = Field(None, description="the same key twice creates one item")
    coverage_complete: bool = Field(False, description="the coverage is complete: step 1 is recorded with these notes and files")


class StepInput(BaseModel):
    notes: str = ""
    title: str | None = None
    body: str | None = None
    decision: str | None = Field(None, description="approve atau reject (langkah keputusan)")
    reason: str = Field("", description="Alasan penolakan (minimal limits.reason_min_chars karakter bersama alasan baku)")
    reason_codes: list[str] = Field(default_factory=list,
                                    description="Alasan baku dari warta.yaml rejection_reasons (id), mis. kutipan")
    publish_at: str | None = Field(None, description="jadwal tayang with the approval: ISO 8601 (an offset, or "
                                                     "local WIB time); empty = publish at once")


class ReportFinalise(BaseModel):
    lang: str = Field("id", description="id atau en")
    reason: str = Field("", description="Alasan koreksi; wajib bila laporan bulan itu sudah final (revisi baru)")


# ------------------------------------------------------------------ answers
class ErrorBody(BaseModel):
    error: str = Field(description="machine-readable code: invalid_input, forbidden, not_found, conflict, ...")
    message: str = Field(description="what is wrong and what to do, for people")
    field: str | None = Field(None, description="the input field at fault, when there is one")
    detail: Any = Field(None, description="FastAPI's own error detail (validation errors)")


class FastApiError(BaseModel):
    detail: Any


# Statuses any route may answer besides its success (FastAPI's own answers have ``detail``).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody | FastApiError, "description": "malformed request"},
    401: {"model": FastApiError, "description": "not signed in, or the token is not valid"},
    403: {"model": ErrorBody | FastApiError, "description": "the SOP or CSRF protection does not allow it"},
    404: {"model": ErrorBody | FastApiError, "description": "no such item, step, file or report"},
    409: {"model": ErrorBody, "description": "conflicts with the item's state or another save"},
    413: {"model": ErrorBody | FastApiError, "description": "the request body is over the configured limit"},
    422: {"model": ErrorBody, "description": "invalid input: `field` names the field"},
    503: {"model": ErrorBody, "description": "the editorial DB is busy: retry after `Retry-After` seconds"},
}


class Me(BaseModel):
    username: str
    roles: list[str]


class StepInfo(BaseModel):
    id: str
    number: int
    name_id: str
    name_en: str
    role: str
    kind: str
    standard_seconds: int


class ScheduleSummary(_Open):
    state: str = Field(description="scheduled, held or released")
    publish_at: str | None
    revision: int
    released_at: str | None = None


class ScheduleInput(BaseModel):
    publish_at: str = Field(description="ISO 8601 with an offset (2026-12-07T08:00:00+07:00), or local time in "
                                        "the SOP's timezone (2026-12-07T08:00)")
    revision: int | None = Field(None, ge=0, description="the schedule's revision you saw: 409 if it changed since")


class Schedule(BaseModel):
    item_id: int
    state: str = Field(description="none, scheduled, held (cancelled after approval: waits for a new time or "
                                   "a release) or released (publishing)")
    publish_at: str | None
    revision: int
    updated_by: str | None
    updated_at: str | None
    released_at: str | None
    released_by: str | None
    moved: bool | None = None


class CalendarEntry(_Open):
    kind: str = Field(description="scheduled or published")
    item_id: int
    title: str
    channel: str
    at: str = Field(description="the scheduled time, or when the channel's post was published")
    state: str
    approved: bool
    url: str | None = None


class CalendarFeed(BaseModel):
    url: str = Field(description="the iCal feed's address (subscribe in a calendar app); keep it secret")
    token: str


class ItemSummary(_Open):
    id: int
    title: str
    status: str
    current_step: str
    current_step_name: str
    waiting_for_role: str | None
    round: int
    channels: list[str]
    service: str
    activity_date: str | None
    place: str
    created_by: str
    created_at: str
    run_id: str
    dag_id: str
    run_state: str | None = Field(None, description="queued until the outbox has started the round's run, then "
                                                    "started; null for a finished item")
    schedule: ScheduleSummary | None = Field(None, description="jadwal tayang; null when not scheduled")


class CreatedItem(ItemSummary):
    duplicate: bool = Field(description="true when the submission key was seen before (no new item)")


class StepPosition(BaseModel):
    step: str
    round: int


class RecordedStep(BaseModel):
    step: str
    round: int
    decision: str | None


class StepResult(ItemSummary):
    recorded: RecordedStep
    next: StepPosition


class AlertOut(_Open):
    id: int
    kind: str
    step: str | None
    round: int | None
    recipients: list[str]
    subject: str
    created_at: str
    sent_at: str | None


class ManuscriptVersion(_Open):
    version: int
    round: int
    kind: str = Field(description="naskah (the author's) or koreksi (the checker's)")
    title: str
    body: str
    author: str
    note: str | None
    created_at: str


class StepRecordOut(_Open):
    step: str
    round: int
    actor: str
    role: str
    decision: str | None
    reason: str | None
    recorded_at: str


class StepTiming(_Open):
    step: str
    round: int
    started_at: str
    ended_at: str | None
    duration_seconds: float | None
    standard_seconds: int | None
    within_standard: bool | None


class AssetOut(_Open):
    id: int
    kind: str = Field(description="photo, video, audio or document")
    filename: str
    size: int
    content_type: str | None
    caption: str | None


class PublicationOut(_Open):
    channel: str
    status: str
    remote_id: str | None
    url: str | None
    error: str | None
    published_at: str | None
    attempts: int
    details: dict[str, Any]


class PublicationCheck(_Open):
    channel: str
    ok: bool
    http_status: int | None
    evidence: dict[str, Any]
    checked_at: str


class AuditEntry(_Open):
    at: str
    actor: str
    action: str
    details: dict[str, Any] | None


class ItemHistory(ItemSummary):
    notes: str
    revision_rounds: int
    rejections: int
    manuscripts: list[ManuscriptVersion]
    records: list[StepRecordOut]
    timings: list[StepTiming]
    assets: list[AssetOut]
    publications: list[PublicationOut]
    checks: list[PublicationCheck]
    audit: list[AuditEntry]
    alerts: list[AlertOut]


class ItemList(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[ItemSummary]


class WaitingItem(ItemSummary):
    waiting_since: str
    due_at: str
    seconds_left: int
    overdue: bool
    step_role: str
    service_due_at: str
    breached: bool


class ReportEntry(_Open):
    month: str
    languages: dict[str, list[str]]
    files: dict[str, dict[str, str]]


class FinalReport(_Open):
    month: str
    lang: str
    revision: int
    narrative_version: int
    finalised_by: str
    finalised_at: str
    reason: str
    pdf_sha256: str
    figures: dict[str, Any]


class VersionRef(BaseModel):
    version: int
    kind: str
    author: str
    round: int


class ManuscriptDiff(BaseModel):
    item_id: int
    from_: VersionRef = Field(alias="from")
    to: VersionRef
    title_changed: bool
    title_html: str
    body_html: str
    unified: str


class PreviewPhoto(_Open):
    id: int
    filename: str
    caption: str | None


class Preview(_Open):
    item_id: int
    ready: bool
    approved: bool
    version: int | None
    title: str
    body_html: str
    excerpt: str
    photos: list[PreviewPhoto]
    channels: list[str]
