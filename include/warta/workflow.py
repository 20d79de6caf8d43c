"""The SOP's rules, in plain Python: who may record which step, and where an item goes next.

No database and no Airflow here; the service layer feeds these functions what they need.
"""

from __future__ import annotations

from dataclasses import dataclass

from warta.config import Step, WartaConfig

DONE = "selesai"


class WorkflowError(Exception):
    """A request the SOP does not allow. ``status`` is the HTTP status the API answers."""

    status = 400
    code = "workflow_error"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(WorkflowError):
    """Input the SOP cannot take. ``reason`` (``required``, ``too_long``, ``date``, ...)
    and ``params`` let the desk's pages say it in the user's language; ``problems`` holds
    every problem found at once (this one first), so a form can mark all its fields."""

    status = 422
    code = "invalid_input"

    def __init__(self, message: str, *, field: str | None = None, reason: str = "invalid",
                 params: dict | None = None):
        super().__init__(message, field=field)
        self.reason = reason
        self.params = dict(params or {})
        self.problems: tuple[InvalidInput, ...] = (self,)


class FieldChecks:
    """Runs a form's checks and collects their InvalidInput, so one answer names every
    field at fault: ``value = checks(check, ...)`` then ``checks.done()``."""

    def __init__(self):
        self.problems: list[InvalidInput] = []

    def __call__(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except InvalidInput as problem:
            self.problems.extend(problem.problems)
            return None

    def done(self) -> None:
        if self.problems:
            first = self.problems[0]
            first.problems = tuple(self.problems)
            raise first


class PermissionDenied(WorkflowError):
    status = 403
    code = "forbidden"


class NotFound(WorkflowError):
    status = 404
    code = "not_found"


class Conflict(WorkflowError):
    status = 409
    code = "conflict"


@dataclass(frozen=True)
class Position:
    """Where an item stands: the step it waits at and its revision round."""

    step_id: str
    round: int


def record_round(step: Step, run_round: int) -> int:
    """The round a step's record belongs to: once-per-item steps live in round 1."""
    return 1 if step.once_per_item else run_round


def check_role(config: WartaConfig, step: Step, actor: str, actor_roles: tuple[str, ...]) -> None:
    if step.role not in actor_roles:
        role = config.roles[step.role]
        raise PermissionDenied(
            f"{actor!r} does not hold the role {role.name_id} needed for step "
            f"{step.number} ({step.name_id})"
        )


def check_can_record(
    config: WartaConfig,
    position: Position,
    step_id: str,
    actor: str,
    actor_roles: tuple[str, ...],
    completed_steps: set[str],
) -> Step:
    """Raise unless ``actor`` may record ``step_id`` now; return the step.

    ``completed_steps`` are the step ids already recorded in the item's current round
    (once-per-item steps count in every round once done).
    """
    try:
        step = config.step(step_id)
    except KeyError:
        raise NotFound(f"there is no SOP step {step_id!r}", field="step") from None
    if not step.is_human:
        raise Conflict(f"step {step.number} ({step.name_id}) is done by the pipeline, not by hand")
    check_role(config, step, actor, actor_roles)
    if step_id in completed_steps:
        raise Conflict(f"step {step.number} ({step.name_id}) is already completed for this round")
    if position.step_id == DONE:
        raise Conflict("this item is finished; nothing waits for a person")
    if position.step_id != step_id:
        waiting = config.step(position.step_id)
        raise Conflict(
            f"step {step.number} ({step.name_id}) is not waiting; the item waits at step "
            f"{waiting.number} ({waiting.name_id})"
        )
    return step


def check_checker_not_author(actor: str, round_authors: set[str]) -> None:
    """Separation of duties: the checker of a round is not the author of its manuscript."""
    if actor in round_authors:
        raise PermissionDenied(
            f"{actor!r} menulis naskah putaran ini sehingga tidak boleh memeriksanya sendiri / "
            f"{actor!r} wrote this round's manuscript and may not check it"
        )


def check_not_own_manuscript(actor: str, authorship: dict[str, list[tuple[int, int]]]) -> None:
    """Separation of duties: nobody decides on a manuscript holding text they wrote or
    corrected in any round. ``authorship`` maps each author of any version of the item's
    manuscript to the (version, round) pairs they wrote."""
    if actor in authorship:
        versions = ", ".join(f"v{version} (putaran/round {round_number})"
                             for version, round_number in sorted(authorship[actor]))
        raise PermissionDenied(
            f"{actor!r} menulis atau mengoreksi naskah ini ({versions}) sehingga tidak boleh "
            f"memutuskannya / {actor!r} wrote or corrected this manuscript ({versions}) and may "
            "not decide on it"
        )


def compose_reason(reason: str, codes, presets) -> str:
    """The stored reason of a decision: the texts of the picked preset reasons (warta.yaml
    ``rejection_reasons``, by id), then the typed words. An unknown id is refused."""
    texts = []
    for code in dict.fromkeys(c.strip() for c in (codes or ()) if c and c.strip()):
        preset = next((p for p in presets if p.id == code), None)
        if preset is None:
            known = ", ".join(p.id for p in presets) or "-"
            raise InvalidInput(
                f"alasan baku {code!r} tidak dikenal (pilihan: {known}) / unknown preset reason {code!r} "
                f"(choose from: {known})",
                field="reason_codes", reason="reason_code", params={"code": code, "known": known},
            )
        texts.append(preset.text_id)
    typed = (reason or "").strip()
    return ". ".join(texts + ([typed] if typed else []))


def normalize_decision(
    decision: str, reason: str, min_reason_chars: int, max_reason_chars: int | None = None
) -> tuple[str, str]:
    """Return ('approved'|'rejected', reason). A rejection needs a real reason; no reason
    may be longer than ``max_reason_chars``."""
    value = (decision or "").strip().lower()
    aliases = {
        "approve": "approved", "approved": "approved", "setuju": "approved", "disetujui": "approved",
        "reject": "rejected", "rejected": "rejected", "tolak": "rejected", "ditolak": "rejected",
    }
    if value not in aliases:
        raise InvalidInput("decision must be 'approve' or 'reject'", field="decision", reason="decision")
    decided = aliases[value]
    reason = (reason or "").strip()
    if decided == "rejected" and len(reason) < min_reason_chars:
        raise InvalidInput(
            f"a rejection needs a reason of at least {min_reason_chars} characters, "
            "so the author knows what to revise",
            field="reason", reason="reason_too_short", params={"n": min_reason_chars},
        )
    if max_reason_chars is not None and len(reason) > max_reason_chars:
        raise InvalidInput(
            f"alasan lebih dari {max_reason_chars} karakter / the reason is longer than "
            f"{max_reason_chars} characters",
            field="reason", reason="too_long", params={"n": max_reason_chars},
        )
    return decided, reason


def next_position(config: WartaConfig, position: Position, step: Step, decision: str = "done") -> Position:
    """Where the item goes after ``step`` is recorded with ``decision``."""
    if step.kind == "decision" and decision == "rejected":
        return Position(step.on_reject, position.round + 1)
    following = config.next_step(step.id)
    return Position(following.id if following else DONE, position.round)


def first_position(config: WartaConfig) -> Position:
    return Position(config.steps[0].id, 1)
