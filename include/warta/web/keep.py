"""The desk's side of "nothing typed is lost" (``warta.keep``): reading a form's files so
that one bad file does not cost the others, keeping a form that arrived after the login
expired, and the pending files a form lists as still attached."""

from __future__ import annotations

import logging
import secrets

from starlette.datastructures import FormData, UploadFile as StarletteUploadFile
from starlette.requests import Request

from warta import keep
from warta.config import Limits
from warta.service import Upload, too_large
from warta.web.csrf import CSRF_COOKIE, CSRF_FIELD, CsrfTokens
from warta.web.uploads import MAX_FILES_PER_REQUEST, read_form
from warta.workflow import InvalidInput

log = logging.getLogger(__name__)
KEEP_FIELD = "keep_upload"  # checkbox per pending file: "tetap dilampirkan"
_CHUNK = 1024 * 1024


async def read_files_each(form: FormData, limits: Limits) -> tuple[list[Upload], list[InvalidInput]]:
    """The form's chosen files as uploads, and the problem of each file that could not be
    read (too large: refused without reading the rest of it). Unlike ``read_uploads``, a
    bad file does not lose the good ones."""
    chosen = [f for f in form.getlist("files") if isinstance(f, StarletteUploadFile) and f.filename]
    problems: list[InvalidInput] = []
    if len(chosen) > MAX_FILES_PER_REQUEST:
        problems.append(InvalidInput(f"too many files (at most {MAX_FILES_PER_REQUEST})", field="files",
                                     reason="too_many_files", params={"n": MAX_FILES_PER_REQUEST}))
        chosen = chosen[:MAX_FILES_PER_REQUEST]
    uploads = []
    for upload in chosen:
        data = bytearray()
        while chunk := await upload.read(_CHUNK):
            data.extend(chunk)
            if len(data) > limits.upload_max_bytes:
                problems.append(too_large(upload.filename, limits.upload_max_bytes))
                data = None
                break
        if data is not None:
            uploads.append(Upload(filename=upload.filename, data=bytes(data)))
    return uploads, problems


def combined(problems: list[InvalidInput]) -> InvalidInput:
    first = problems[0]
    first.problems = tuple(p for problem in problems for p in problem.problems)
    return first


def kept_ids(form: FormData) -> list[int]:
    ids = []
    for value in form.getlist(KEEP_FIELD):
        if isinstance(value, str) and value.isdigit() and len(value) < 19:
            ids.append(int(value))
    return ids


def with_pending(service, username: str, target: str, form: FormData, fresh: list[Upload]) -> list[Upload]:
    """The files of this submit: the pending ones still ticked, then the newly chosen ones
    (a file chosen again that is pending already counts once)."""
    taken = keep.take_pending(service, username, target, kept_ids(form))
    digests = {_digest(u.data) for _, u in taken}
    return [u for _, u in taken] + [u for u in fresh if _digest(u.data) not in digests]


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def refused(service, username: str, target: str, form: FormData, fresh: list[Upload]) -> list[dict]:
    """A submit was refused: keep its acceptable new files, drop the pending ones unticked;
    the files the re-rendered form lists as still attached."""
    keep.drop_pending(service, username, target, keep=kept_ids(form))
    keep.keep_uploads(service, username, target, service.acceptable_uploads(fresh))
    return keep.pending_uploads(service, username, target)


# ------------------------------------------------------------------ an expired login
def desk_target(request: Request) -> str | None:
    """The kept-form target of a desk form's path (/…/desk/new, /…/desk/items/1/steps/x)."""
    path = request.url.path
    marker = "/desk/"
    if marker not in path:
        return None
    target = path.split(marker, 1)[1].strip("/")
    return target if keep.valid_target(target) else None


async def keep_expired_post(request: Request, service) -> str | None:
    """A desk form posted by someone whose login expired: keep it (text and acceptable
    files) and return the token to claim it with after signing in again. Only a form the
    desk itself served is kept: its CSRF field equals the CSRF cookie (a strict same-site
    cookie another site cannot send), and the token is one the server signed for a user of
    users.yaml, so nobody who never signed in can store anything. The signature later
    proves whose it is: only that user can claim it."""
    target = desk_target(request)
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    if target is None or request.method != "POST" or not cookie:
        return None
    tokens = CsrfTokens(request.app.state.auth.secret_key())
    if not any(tokens.belongs_to(cookie, username) for username in service.config.users):
        return None  # checked before the body is read: an anonymous upload stays unread
    try:
        form = await read_form(request)
    except Exception:  # a body that is not a form: nothing to keep
        return None
    submitted = form.get(CSRF_FIELD)
    if not isinstance(submitted, str) or not secrets.compare_digest(submitted, cookie):
        return None
    fields = {name: value for name, value in form.multi_items() if isinstance(value, str)}
    channels = [c for c in form.getlist("channels") if isinstance(c, str)]
    uploads, _problems = await read_files_each(form, service.config.limits)
    try:
        return keep.keep_form(service, csrf_token=submitted, target=target, fields=fields, channels=channels,
                              uploads=service.acceptable_uploads(uploads))
    except InvalidInput as exc:
        log.info("an expired login's form was not kept: %s", exc)
        return None
