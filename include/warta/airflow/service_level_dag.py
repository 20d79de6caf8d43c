"""The service-level DAG: every few minutes, reminders, breach alerts and escalations for
the SOP steps that are open, the freshness warning for the website and channels, and the
warning before the Graph API version Facebook and Instagram call expires.

The work is in ``warta.alerts`` (plain Python); this is the schedule around it. Alerts
are recorded under unique keys, so a retried task or an overlapping run never alerts
twice; ``max_active_runs=1`` keeps runs from overlapping in the first place.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from warta.config import WartaConfig, get_config

DAG_ID = "warta_layanan"


def build_service_level_dag(config: WartaConfig | None = None) -> DAG:
    config = config or get_config()
    levels = config.service_levels
    with DAG(
        dag_id=DAG_ID,
        dag_display_name="Layanan: pengingat, keterlambatan, eskalasi, kemutakhiran kanal",
        description="Mutu baku SOP: pengingat, peringatan terlambat, eskalasi, dan peringatan kanal tidak diperbarui",
        schedule=levels.scan_schedule,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={"owner": "warta", "retries": 2, "retry_delay": timedelta(seconds=30)},
        # A scan that hangs must not hold back the next one for long.
        dagrun_timeout=timedelta(minutes=30),
        tags=["warta", "sop", "layanan"],
        doc_md=(
            "# Mutu baku SOP dan notifikasi\n\n"
            "Setiap beberapa menit: pengingat sebelum batas waktu langkah, peringatan saat terlambat, "
            f"eskalasi kepada {config.roles[levels.escalation_role].name_id} (dan Plt/Plh), serta "
            f"peringatan bila website atau kanal tidak memuat publikasi baru selama {levels.freshness_days} hari. "
            "Juga peringatan sebelum versi Graph API (Facebook, Instagram) yang dipakai berakhir. "
            "Semua peringatan tercatat di database redaksi (tabel `alerts`) dan tampil di inbox desk."
        ),
        is_paused_upon_creation=False,
    ) as dag:

        @task(task_id="langkah_sop", task_display_name="Pengingat, keterlambatan dan eskalasi langkah SOP")
        def scan_steps() -> dict:
            from warta.alerts import AlertDesk, default_sender
            from warta.service import default_service

            service = default_service()
            return AlertDesk(service, default_sender(service.config)).scan_steps()

        @task(task_id="kemutakhiran_kanal", task_display_name="Kemutakhiran website dan kanal")
        def check_freshness() -> dict:
            from warta.alerts import AlertDesk, default_sender
            from warta.service import default_service

            service = default_service()
            return AlertDesk(service, default_sender(service.config)).check_freshness()

        @task(task_id="versi_graph_api", task_display_name="Masa berlaku versi Graph API (Facebook, Instagram)")
        def check_graph_versions() -> dict:
            from warta.alerts import AlertDesk, default_sender
            from warta.channels.graph import graph_versions_in_use
            from warta.service import default_service

            service = default_service()
            desk = AlertDesk(service, default_sender(service.config))
            return desk.check_graph_versions(graph_versions_in_use(service.config))

        scan_steps()
        check_freshness()
        check_graph_versions()
    return dag
