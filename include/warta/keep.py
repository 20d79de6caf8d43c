"""Nothing typed is lost: what the desk keeps of a form that was not sent yet.

- **Drafts**: the text of an item's form (a manuscript, a correction, notes, a reason),
  autosaved by the page's script, one per user, item and form (the step's id). Every save
  names the version it started from; an older one is refused (``Conflict``, 409), so two
  tabs or phones never overwrite each other unseen. Deleted when the form is sent.
- **Kept forms**: a form posted after the login expired. Kept anonymously (nobody is signed
  in), under a random token only the posting browser learns; claimed by its owner after
  signing in again: the form carried the desk's CSRF token, which is signed for one user,
  so only that user can claim it. Short-lived.
- **Pending uploads**: files of a submit that was refused (a validation error, or a kept
  form), stored so that nobody picks a 50 MB video again on a phone; listed in the form as
  still attached, used by the next submit, removed when abandoned.

How long each is kept: ``warta.yaml keep`` (``KeepSettings``); ``tidy()`` removes what is
older, run periodically by the outbox loop (``warta.outbox``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Callable, Iterable

from pydantic import Field
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from warta.config import Duration, config_dir, config_model, warta_yaml_section, warta_yaml_section_parser
from warta.models import Draft, KeptForm, PendingUpload
from warta.storage import safe_filename
from warta.text_checks import check_characters
from warta.workflow import Conflict, InvalidInput, NotFound, PermissionDenied

log = logging.getLogger(__name__)

# The text fields a draft of an item's form may hold.
DRAFT_FIELDS = ("title", "body", "notes", "reason")
# The fields of the forms a kept form may hold (the intake form's and the steps' forms).
INTAKE_FIELDS = ("title", "activity_date", "place", "service", "notes", "submission_key", "coverage_complete")
STEP_FIELDS = ("title", "body", "notes", "reason")
NEW_TARGET = "new"
_STEP_TARGET = re.compile(r"^items/([1-9][0-9]{0,18})/steps/([a-z][a-z0-9_]{0,63})$")


@config_model
class KeepSettings:
    draft_max_age: Duration = timedelta(days=14)
    kept_form_max_age: Duration = timedelta(hours=2)
    pending_upload_max_age: Duration = timedelta(hours=24)
    tidy_every: Duration = timedelta(minutes=10)
    autosave_seconds: int = Field(default=5, ge=1, le=300)


_parse = warta_yaml_section_parser("keep", KeepSettings)


@lru_cache(maxsize=4)
def _settings_in(folder: str) -> KeepSettings:
    return _parse(warta_yaml_section("keep", folder))


def keep_settings() -> KeepSettings:
    return _settings_in(str(config_dir()))


# ------------------------------------------------------------------ targets
def step_target(item_id: int, step_id: str) -> str:
    return f"items/{item_id}/steps/{step_id}"


def parse_target(target: str) -> tuple[int, str] | None:
    """(item id, step id) of a step form's target; None for the intake form or nonsense."""
    match = _STEP_TARGET.match(target or "")
    return (int(match.group(1)), match.group(2)) if match else None


def valid_target(target: str) -> bool:
    return target == NEW_TARGET or parse_target(target) is not None


def _fields(values: dict[str, Any], allowed: Iterable[str], max_chars: int) -> dict[str, Any]:
    """The known fields of a form, as text (``channels`` as a list), each checked."""
    kept: dict[str, Any] = {}
    for name in allowed:
        value = values.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be text", field=name)
        check_characters(value, name)
        if len(value) > max_chars:
            raise InvalidInput(f"{name} is longer than {max_chars} characters", field=name, reason="too_long",
                               params={"n": max_chars})
        kept[name] = value
    return kept


# ------------------------------------------------------------------ drafts
def _draft_view(draft: Draft) -> dict[str, Any]:
    return {"item_id": draft.item_id, "form": draft.form, "fields": dict(draft.fields or {}),
            "version": draft.version, "updated_at": draft.updated_at}


def _check_form(service, username: str, item_id: int, form: str) -> None:
    """A draft belongs to a human step's form of an existing item, of a role the user holds."""
    service.get_item(item_id)  # NotFound
    try:
        step = service.config.step(form)
    except KeyError:
        raise NotFound(f"there is no form {form!r}") from None
    if not step.is_human:
        raise NotFound(f"step {form!r} has no form")
    if step.role not in service.config.roles_of(username):
        raise PermissionDenied(f"{username} does not hold the role of step {step.number} ({step.name_id})")


def get_draft(service, username: str, item_id: int, form: str) -> dict[str, Any] | None:
    with service.sessions() as session:
        draft = session.scalars(select(Draft).where(
            Draft.username == username, Draft.item_id == item_id, Draft.form == form)).one_or_none()
        if draft is None:
            return None
        if draft.updated_at < service.clock() - keep_settings().draft_max_age:
            return None
        return _draft_view(draft)


def save_draft(service, username: str, item_id: int, form: str, fields: dict[str, Any],
               version: int | None) -> dict[str, Any]:
    """Save the form's text. ``version``: the draft's version the page started from (None:
    there was none). A save from an older version is refused with Conflict (409)."""
    _check_form(service, username, item_id, form)
    limits = service.config.limits
    fields = _fields(fields, DRAFT_FIELDS, max(limits.manuscript_max_chars, limits.notes_max_chars))
    now = service.clock()
    with service.sessions() as session:
        draft = session.scalars(select(Draft).where(
            Draft.username == username, Draft.item_id == item_id, Draft.form == form)
            .with_for_update()).one_or_none()
        if draft is None:
            if version not in (None, 0):
                raise Conflict("this draft was discarded elsewhere; reload the page")
            draft = Draft(username=username, item_id=item_id, form=form, fields=fields, version=1,
                          created_at=now, updated_at=now)
            session.add(draft)
        else:
            if version != draft.version:
                raise Conflict(f"the draft was saved elsewhere (version {draft.version}, not {version})")
            draft.fields = fields
            draft.version += 1
            draft.updated_at = now
        try:
            session.commit()
        except IntegrityError:  # the first save of the same draft from another tab
            session.rollback()
            raise Conflict("the draft was saved elsewhere a moment ago") from None
        return _draft_view(draft)


def delete_draft(service, username: str, item_id: int, form: str) -> bool:
    with service.sessions() as session:
        result = session.execute(delete(Draft).where(
            Draft.username == username, Draft.item_id == item_id, Draft.form == form))
        session.commit()
        return bool(result.rowcount)


# ------------------------------------------------------------------ pending uploads
def _pending_view(row: PendingUpload) -> dict[str, Any]:
    return {"id": row.id, "filename": row.filename, "size": row.size, "sha256": row.sha256,
            "created_at": row.created_at}


def _store_pending(service, session, uploads, *, username: str | None, target: str,
                   kept_form_id: int | None = None) -> list[PendingUpload]:
    rows = []
    for upload in uploads:
        key = f"pending/{uuid.uuid4().hex}-{safe_filename(upload.filename)}"
        service.storage.put_bytes(key, upload.data)
        row = PendingUpload(username=username, kept_form_id=kept_form_id, target=target,
                            filename=upload.filename[:300], size=len(upload.data),
                            sha256=hashlib.sha256(upload.data).hexdigest(), storage_key=key,
                            created_at=service.clock())
        session.add(row)
        rows.append(row)
    return rows


def keep_uploads(service, username: str, target: str, uploads) -> list[dict[str, Any]]:
    """Keep a refused submit's files for the next one (a file kept already is not kept twice)."""
    uploads = list(uploads)
    if not uploads:
        return []
    with service.sessions() as session:
        held = set(session.scalars(select(PendingUpload.sha256).where(
            PendingUpload.username == username, PendingUpload.target == target)))
        fresh = []
        for upload in uploads:
            digest = hashlib.sha256(upload.data).hexdigest()
            if digest not in held:
                held.add(digest)
                fresh.append(upload)
        rows = _store_pending(service, session, fresh, username=username, target=target)
        session.commit()
        return [_pending_view(r) for r in rows]


def pending_uploads(service, username: str, target: str) -> list[dict[str, Any]]:
    """The files still attached to a user's form, oldest first."""
    oldest = service.clock() - keep_settings().pending_upload_max_age
    with service.sessions() as session:
        rows = session.scalars(select(PendingUpload).where(
            PendingUpload.username == username, PendingUpload.target == target,
            PendingUpload.created_at >= oldest).order_by(PendingUpload.id))
        return [_pending_view(r) for r in rows]


def take_pending(service, username: str, target: str, ids: Iterable[int]):
    """The chosen pending files of a user's form as service uploads (with their rows' ids)."""
    from warta.service import Upload

    wanted = {int(i) for i in ids}
    if not wanted:
        return []
    taken = []
    with service.sessions() as session:
        rows = session.scalars(select(PendingUpload).where(
            PendingUpload.username == username, PendingUpload.target == target,
            PendingUpload.id.in_(wanted)).order_by(PendingUpload.id))
        for row in rows:
            try:
                data = service.storage.get_bytes(row.storage_key)
            except OSError:  # removed by a tidy between the page and the submit
                continue
            taken.append((row.id, Upload(filename=row.filename, data=data)))
    return taken


def drop_pending(service, username: str, target: str, keep: Iterable[int] = ()) -> int:
    """Remove a user's pending files of a form, but those in ``keep``."""
    keep = {int(i) for i in keep}
    with service.sessions() as session:
        rows = [r for r in session.scalars(select(PendingUpload).where(
            PendingUpload.username == username, PendingUpload.target == target)) if r.id not in keep]
        return _delete_pending(service, session, rows)


def _delete_pending(service, session, rows) -> int:
    keys = [r.storage_key for r in rows]
    for row in rows:
        session.delete(row)
    session.commit()
    for key in keys:  # after the commit: a file is never missing under a live row
        try:
            service.storage.delete(key)
        except OSError:
            log.warning("could not remove the pending upload %s", key)
    return len(rows)


# ------------------------------------------------------------------ kept forms
def keep_form(service, *, csrf_token: str, target: str, fields: dict[str, Any], channels: list[str] | None = None,
              uploads=()) -> str:
    """Keep a form that arrived after the login expired; the token to claim it with."""
    if not valid_target(target):
        raise InvalidInput(f"no desk form posts to {target!r}", field="target")
    limits = service.config.limits
    allowed = INTAKE_FIELDS if target == NEW_TARGET else STEP_FIELDS
    kept = _fields(fields, allowed, max(limits.manuscript_max_chars, limits.notes_max_chars))
    if target == NEW_TARGET:
        kept["channels"] = [c for c in (channels or []) if c in service.config.channels]
    token = secrets.token_urlsafe(24)
    now = service.clock()
    with service.sessions() as session:
        form = KeptForm(token=token, csrf_token=csrf_token[:200], username=None, target=target, fields=kept,
                        created_at=now, expires_at=now + keep_settings().kept_form_max_age)
        session.add(form)
        session.flush()
        _store_pending(service, session, uploads, username=None, target=target, kept_form_id=form.id)
        session.commit()
    return token


@dataclass
class KeptFormView:
    token: str
    target: str
    fields: dict[str, Any]
    expires_at: datetime


def _live_kept(session, token: str, now: datetime) -> KeptForm | None:
    if not token or len(token) > 64:
        return None
    form = session.scalars(select(KeptForm).where(KeptForm.token == token)).one_or_none()
    return form if form is not None and form.expires_at > now else None


def kept_form_expiry(service, token: str) -> datetime | None:
    """When an unclaimed or claimed kept form expires (None: no such form, or expired)."""
    with service.sessions() as session:
        form = _live_kept(session, token, service.clock())
        return form.expires_at if form else None


def claim_kept_form(service, token: str, username: str, belongs_to: Callable[[str, str], bool]) -> KeptFormView | None:
    """Bind a kept form (and its files) to the user who signed in again, if it is theirs:
    its CSRF token was signed for them (``belongs_to(token, username)``)."""
    with service.sessions() as session:
        form = _live_kept(session, token, service.clock())
        if form is None or (form.username or username) != username or not belongs_to(form.csrf_token, username):
            return None
        form.username = username
        for row in session.scalars(select(PendingUpload).where(PendingUpload.kept_form_id == form.id)):
            row.username = username
        session.commit()
        return KeptFormView(form.token, form.target, dict(form.fields or {}), form.expires_at)


def kept_form(service, token: str | None, username: str, target: str) -> KeptFormView | None:
    """A claimed kept form of this user for this form, to fill the form in with."""
    if not token:
        return None
    with service.sessions() as session:
        form = _live_kept(session, token, service.clock())
        if form is None or form.username != username or form.target != target:
            return None
        return KeptFormView(form.token, form.target, dict(form.fields or {}), form.expires_at)


def form_sent(service, username: str, target: str, *, item_id: int | None = None, form: str | None = None) -> None:
    """A form was sent: forget its draft, kept forms and pending files."""
    with service.sessions() as session:
        session.execute(delete(KeptForm).where(KeptForm.username == username, KeptForm.target == target))
        if item_id is not None and form is not None:
            session.execute(delete(Draft).where(
                Draft.username == username, Draft.item_id == item_id, Draft.form == form))
        session.commit()
    drop_pending(service, username, target)


# ------------------------------------------------------------------ tidy
def tidy(service, now: datetime | None = None) -> dict[str, int]:
    """Remove drafts, kept forms and pending files older than ``warta.yaml keep`` allows."""
    settings = keep_settings()
    now = now or service.clock()
    with service.sessions() as session:
        drafts = session.execute(delete(Draft).where(Draft.updated_at < now - settings.draft_max_age)).rowcount
        old_uploads = list(session.scalars(select(PendingUpload).where(
            PendingUpload.created_at < now - settings.pending_upload_max_age)))
        expired = [f.id for f in session.scalars(select(KeptForm).where(KeptForm.expires_at <= now))]
        if expired:
            # Files of a form nobody claimed go with it; claimed ones stay the owner's.
            old_uploads += list(session.scalars(select(PendingUpload).where(
                PendingUpload.kept_form_id.in_(expired), PendingUpload.username.is_(None))))
        uploads = _delete_pending(service, session, list({r.id: r for r in old_uploads}.values()))
        if expired:
            session.execute(delete(KeptForm).where(KeptForm.id.in_(expired)))
        session.commit()
    counts = {"drafts": drafts or 0, "kept_forms": len(expired), "pending_uploads": uploads}
    if any(counts.values()):
        log.info("tidied what the desk kept: %s", counts)
    return counts
