"""Making a month's report final (SOP step 7: the Operator prepares the report the Kepala
signs).

Finalising freezes what the signed PDF carries: the narrative version (the Operator's
latest; Warta's draft is saved as a version first when none was) and the figures the
report was made from (``figures``, kept in ``report_finals`` with the PDF's SHA-256). The
files are stored under the revision's own keys and as the month's current files.

A final report never changes silently: a later build of the month (the monthly DAG
re-run, a narrative saved afterwards) leaves the final files as they are. A correction is
a new numbered revision (``finalise`` again with the reason); every revision is kept.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from warta.models import ReportFinal
from warta.workflow import Conflict, InvalidInput, PermissionDenied

PREPARER_ROLE = "operator"  # SOP step 7
MAX_REASON_CHARS = 1000


@dataclass(frozen=True)
class FinalMark:
    """What the printed report says about its state: a draft, or final revision N."""

    revision: int | None  # None: a draft, not final yet
    narrative_version: int | None  # None: Warta's draft narrative, never saved
    finalised_by: str = ""
    finalised_at: datetime | None = None
    reason: str = ""

    @property
    def final(self) -> bool:
        return self.revision is not None


def latest(session: Session, month_key: str, lang: str) -> ReportFinal | None:
    return session.scalars(
        select(ReportFinal).where(ReportFinal.month == month_key, ReportFinal.lang == lang)
        .order_by(ReportFinal.revision.desc()).limit(1)
    ).first()


def revisions(session: Session, month_key: str, lang: str) -> list[ReportFinal]:
    return list(session.scalars(
        select(ReportFinal).where(ReportFinal.month == month_key, ReportFinal.lang == lang)
        .order_by(ReportFinal.revision.desc())
    ))


def mark_of(final: ReportFinal) -> FinalMark:
    return FinalMark(final.revision, final.narrative_version, final.finalised_by, final.finalised_at, final.reason)


def as_answer(final: ReportFinal) -> dict:
    """A final revision as the CLI and the REST API answer it."""
    return {"month": final.month, "lang": final.lang, "revision": final.revision,
            "narrative_version": final.narrative_version, "finalised_by": final.finalised_by,
            "finalised_at": final.finalised_at.isoformat(), "reason": final.reason,
            "pdf_sha256": final.pdf_sha256, "figures": final.figures}


def frozen_figures(report) -> dict:
    """The figures a final revision was made from (JSON): the headline figures, the list
    sizes and the service-level totals, enough to see what a correction changed."""
    share = report.share_within_standard.current
    return {
        "items_published": report.items_published.current,
        "publications": report.publications.current,
        "items_registered": report.items_registered.current,
        "rejections": report.rejections_count.current,
        "in_progress": report.in_progress_count.current,
        "steps_done": report.steps_done.current,
        "share_within_standard": None if share is None else round(share, 6),
        "items_listed": len(report.items),
        "failures": len(report.failures),
        "open_failures": len(report.open_failures),
        "alerts": report.alerts_total.total,
        "per_channel": {c.key: c.current for c in report.per_channel},
        "compiled_at": report.generated_at.astimezone(timezone.utc).isoformat(),
    }


def finalise(service, month, actor: str, *, lang: str | None = None, reason: str = "", settings=None,
             at: datetime | None = None):
    """Make ``month``'s report final (revision 1), or a correction of a final one (the next
    revision, ``reason`` required). Only the Operator may. Returns (ReportFinal, StoredReport).

    The revision is claimed in the same transaction that records it, so two finalisations
    at once cannot both win: the second answers Conflict (409)."""
    from warta.report import narrative as narratives
    from warta.report.documents import build_files, narrative_draft
    from warta.report.compile import compile_report
    from warta.report.settings import load_report_settings
    from warta.report.store import store_final

    settings = settings or load_report_settings()
    lang = lang or settings.language
    if lang not in ("id", "en"):
        raise InvalidInput(f"language {lang!r} is not one of id, en", field="lang")
    if PREPARER_ROLE not in service.config.roles_of(actor):
        raise PermissionDenied("hanya Operator yang dapat memfinalkan laporan bulanan")
    reason = " ".join(str(reason or "").split())
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(f"alasan: paling banyak {MAX_REASON_CHARS} karakter", field="reason")
    at = at or service.clock()
    with service.sessions() as session:
        previous = latest(session, month.key, lang)
        if previous is not None and not reason:
            raise InvalidInput(
                f"laporan {month.key} sudah final (revisi {previous.revision}); koreksi dibuat sebagai revisi "
                "baru dan memerlukan alasan", field="reason")
        saved = narratives.latest(session, month.key, lang)
        if saved is None:  # freeze Warta's draft as the first version: the PDF names a version
            saved = narratives.save(session, month.key, lang, narrative_draft(service, month, lang, settings),
                                    actor, at=at)
        narrative_version, narrative_parts = saved.version, narratives.as_parts(saved)
        revision = (session.scalar(select(func.max(ReportFinal.revision)).where(
            ReportFinal.month == month.key, ReportFinal.lang == lang)) or 0) + 1
        final = ReportFinal(month=month.key, lang=lang, revision=revision, narrative_version=narrative_version,
                            figures={}, pdf_sha256="", reason=reason, finalised_by=actor, finalised_at=at)
        session.add(final)
        try:
            session.flush()  # claims the revision (unique month, lang, revision)
        except IntegrityError:
            session.rollback()
            raise Conflict(f"laporan {month.key} sedang difinalkan oleh orang lain; muat ulang") from None
        report = compile_report(session, service.config, month, settings, generated_at=at)
        files = build_files(report, service.config, settings, lang, narrative_parts, final=mark_of(final))
        final.figures = frozen_figures(report)
        final.pdf_sha256 = hashlib.sha256(files["pdf"]).hexdigest()
        stored = store_final(service.storage, month.key, lang, revision, files)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            raise Conflict(f"laporan {month.key} sedang difinalkan oleh orang lain; muat ulang") from None
        session.refresh(final)
        session.expunge(final)
    return final, stored
