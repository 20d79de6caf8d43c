"""The monthly report DAG: "Laporan Bulanan Updating Website dan Media Sosial".

One run compiles one calendar month (in the SOP's timezone, WIB) from the editorial DB,
renders it as PDF, XLSX and HTML and stores the files in archive storage
(``reports/<YYYY-MM>/``). The work is in ``warta.report`` (plain Python); this is the
schedule around it.

Which month a run reports:
  - conf ``{"month": "2026-10"}`` (trigger form or API): that month;
  - otherwise the calendar month before its logical date (its data interval end; for a
    manual run without a logical date, when it was started). The scheduled run at 00:00
    WIB on 1 November reports October; a backfill of logical dates 1 September to
    1 November (00:00 WIB) reports August, September and October.
Rebuilding a month overwrites its files, so runs are idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum

from airflow.sdk import DAG, CronTriggerTimetable, Param, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from warta.config import WartaConfig, get_config
from warta.report.settings import LANGUAGES, ReportSettings, load_report_settings

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def report_doc_md(config: WartaConfig, settings: ReportSettings) -> str:
    sop = config.sop
    return "\n".join([
        "# Laporan Bulanan Updating Website dan Media Sosial",
        f"**Nomor SOP** {sop.get('number', '')} · **Unit** {sop.get('unit', '')}",
        "",
        "Catatan wajib SOP (*Pencatatan dan pendataan*): laporan bulanan updating website dan media sosial. "
        "Setiap run menyusun **satu bulan kalender** (WIB) dari database redaksi Warta dan menyimpan "
        "PDF, XLSX dan HTML di penyimpanan arsip: `reports/<YYYY-MM>/laporan-<YYYY-MM>.{pdf,xlsx,html}` "
        "(unduh lewat `GET /warta/api/v1/reports/<YYYY-MM>/<pdf|xlsx|html>`).",
        "",
        f"- **Jadwal**: `{settings.schedule}` ({config.timezone}); setiap run menyusun bulan kalender sebelum "
        "tanggal logisnya: run pukul 00.00 WIB tanggal 1 November menyusun Oktober.",
        "- **Bulan tertentu**: trigger dengan conf `{\"month\": \"2026-10\"}`; bahasa Inggris dengan "
        "`{\"lang\": \"en\"}`.",
        "- **Backfill**: mis. `airflow backfill create --dag-id " + settings.dag_id
        + " --from-date 2026-09-01T00:00:00+07:00 --to-date 2026-11-01T00:00:00+07:00` menyusun Agustus, "
        "September dan Oktober.",
        "- Menyusun ulang bulan yang sama mengganti berkasnya (idempoten). Hanya bulan yang sudah berakhir.",
    ])


def notify_report_ready(service, stored, recipients: tuple[str, ...], run_id: str) -> int | None:
    """Send the report's links to its readers through the alert channels (email/chat).
    Keyed by the run, so a retried task does not send twice while a rebuild does."""
    if not recipients:
        return None
    from warta.alerts import AlertDesk, default_sender

    desk = AlertDesk(service, default_sender(service.config))
    return desk.report_ready(stored.month, stored.lang, stored.keys, run_id, recipients)


def build_monthly_report_dag(config: WartaConfig | None = None, settings: ReportSettings | None = None) -> DAG:
    config = config or get_config()
    settings = settings or load_report_settings()
    with DAG(
        dag_id=settings.dag_id,
        dag_display_name="Laporan Bulanan Updating Website dan Media Sosial",
        description="Laporan bulanan SOP: ringkasan, daftar berita, mutu baku, penolakan, kemutakhiran kanal "
                    "(PDF, XLSX, HTML)",
        # Runs at the cron time in WIB; each run reports the month before its logical date.
        schedule=CronTriggerTimetable(settings.schedule, timezone=config.timezone),
        start_date=pendulum.datetime(2026, 1, 1, tz=config.timezone),
        # Past months are built on demand (conf or backfill), not all at once on deployment.
        catchup=False,
        max_active_runs=1,
        default_args={
            "owner": "warta",
            "retries": 2,
            "retry_delay": timedelta(minutes=5),
        },
        dagrun_timeout=timedelta(hours=2),
        params={
            "month": Param(
                None,
                type=["null", "string"],
                pattern=MONTH_PATTERN,
                title="Bulan (YYYY-MM)",
                description="Kosongkan untuk bulan sebelum tanggal run; isi mis. 2026-10 untuk menyusun ulang.",
            ),
            "lang": Param(
                settings.language, type="string", enum=list(LANGUAGES), title="Bahasa",
                description="id (Bahasa Indonesia) atau en (English)",
            ),
        },
        tags=["warta", "laporan"],
        doc_md=report_doc_md(config, settings),
        is_paused_upon_creation=False,
    ) as dag:

        @task(task_id="bulan_laporan", task_display_name="Bulan yang dilaporkan")
        def report_month() -> str:
            from warta.report.period import InvalidReportMonth, month_to_report

            context = get_current_context()
            dag_run = context["dag_run"]
            reference = context.get("data_interval_end") or context.get("logical_date") or dag_run.run_after
            try:
                month = month_to_report(
                    context["params"].get("month"), reference, datetime.now(timezone.utc), config.timezone
                )
            except InvalidReportMonth as exc:
                raise AirflowFailException(str(exc)) from exc
            return month.key

        @task(task_id="susun_laporan", task_display_name="Susun dan simpan laporan (PDF, XLSX, HTML)")
        def build_report(month_key: str) -> dict:
            from warta.report import ReportMonth, build_and_store
            from warta.service import default_service

            service = default_service()
            settings = load_report_settings()
            lang = get_current_context()["params"].get("lang") or None
            report, stored = build_and_store(
                service, ReportMonth.parse(month_key, service.config.timezone), lang=lang,
                settings=settings,
            )
            if stored.final_revision is None:  # a final month's files stand as they were: nothing new to send
                notify_report_ready(service, stored, settings.recipients, get_current_context()["run_id"])
            return {
                "month": stored.month,
                "lang": stored.lang,
                "files": stored.keys,
                "final_revision": stored.final_revision,
                "items_published": report.items_published.current,
                "nothing_published": report.nothing_published,
            }

        build_report(report_month())
    return dag
