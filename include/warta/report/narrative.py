"""The report's narrative (uraian): Warta's draft from the figures, and the versions the
Operator saves in the desk. Every save is a new version; the newest is printed."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warta.models import ReportNarrative
from warta.workflow import InvalidInput

PARTS = ("summary", "problems", "follow_up")
MAX_CHARS = 4000


def latest(session: Session, month_key: str, lang: str) -> ReportNarrative | None:
    return session.scalars(
        select(ReportNarrative).where(ReportNarrative.month == month_key, ReportNarrative.lang == lang)
        .order_by(ReportNarrative.version.desc()).limit(1)
    ).first()


def versions(session: Session, month_key: str, lang: str) -> list[ReportNarrative]:
    return list(session.scalars(
        select(ReportNarrative).where(ReportNarrative.month == month_key, ReportNarrative.lang == lang)
        .order_by(ReportNarrative.version.desc())
    ))


def as_parts(narrative: ReportNarrative | None) -> dict[str, str] | None:
    return None if narrative is None else {part: getattr(narrative, part) for part in PARTS}


def save(session: Session, month_key: str, lang: str, texts: dict[str, str], actor: str,
         at: datetime | None = None) -> ReportNarrative:
    """A new version (the one before it is kept). Empty parts are refused: the printed
    report would have a heading with nothing under it."""
    cleaned = {}
    for part in PARTS:
        value = " ".join(str(texts.get(part) or "").split()) if part != "summary" else str(texts.get(part) or "").strip()
        value = value.strip()
        if not value:
            raise InvalidInput(f"{part}: tidak boleh kosong", field=part)
        if len(value) > MAX_CHARS:
            raise InvalidInput(f"{part}: paling banyak {MAX_CHARS} karakter", field=part)
        cleaned[part] = value
    number = (session.scalar(select(func.max(ReportNarrative.version)).where(
        ReportNarrative.month == month_key, ReportNarrative.lang == lang)) or 0) + 1
    narrative = ReportNarrative(month=month_key, lang=lang, version=number, edited_by=actor,
                                created_at=at or datetime.now(timezone.utc), **cleaned)
    session.add(narrative)
    session.commit()
    return narrative
