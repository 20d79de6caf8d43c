"""The reach DAG ``jangkauan_kanal``: once a day, the public metrics (reach, reactions,
comments, shares) of every social post published in the last ``reach.window_days`` days,
one task per channel that has a metrics API (Facebook Page, Instagram, X).

The work is in ``warta.reach`` (plain Python). A run reads for the day of its logical date
(WIB): re-running that day replaces its readings, never adds to them. A channel whose token
lacks a permission records that per post and succeeds (the report says why figures are
missing); transient failures fail the task, which Airflow retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pendulum

from airflow.sdk import DAG, CronTriggerTimetable, get_current_context, task

from warta.config import WartaConfig, get_config
from warta.reach import ReachSettings, load_reach_settings, metric_channels


def reading_moment(context) -> datetime:
    """The moment a run reads as of: its logical date (a manual run without one: now)."""
    moment = context.get("logical_date") or context["dag_run"].run_after
    # A plain aware datetime (not pendulum's), as the editorial DB takes it.
    return datetime.fromtimestamp(moment.timestamp(), tz=timezone.utc) if moment else datetime.now(timezone.utc)


def build_reach_dag(config: WartaConfig | None = None, settings: ReachSettings | None = None) -> DAG:
    config = config or get_config()
    settings = settings or load_reach_settings()
    channels = metric_channels(config)
    with DAG(
        dag_id=settings.dag_id,
        dag_display_name="Jangkauan dan interaksi kanal media sosial",
        description="Jangkauan, reaksi, komentar dan bagikan setiap unggahan media sosial, dibaca sekali sehari "
                    f"selama {settings.window_days} hari setelah tayang",
        schedule=CronTriggerTimetable(settings.schedule, timezone=config.timezone),
        start_date=pendulum.datetime(2026, 1, 1, tz=config.timezone),
        catchup=False,
        max_active_runs=1,
        default_args={"owner": "warta", "retries": 3, "retry_delay": timedelta(minutes=10),
                      "retry_exponential_backoff": True},
        dagrun_timeout=timedelta(hours=2),
        tags=["warta", "laporan", "jangkauan"],
        doc_md=(
            "# Jangkauan dan interaksi\n\n"
            f"Sekali sehari (`{settings.schedule}`, {config.timezone}) membaca metrik publik setiap unggahan "
            f"Facebook, Instagram dan X selama {settings.window_days} hari setelah tayang, dan menyimpannya di "
            "database redaksi (tabel `post_metrics`, satu baris per unggahan per hari). Laporan bulanan "
            "menampilkannya per kanal dan per berita. Website (WordPress) tidak punya API jangkauan.\n\n"
            "- Izin token kurang (mis. `read_insights`, `pages_read_engagement`, X 403): dicatat per unggahan, "
            "tugas tetap berhasil; laporan menyebut alasannya.\n"
            "- Gangguan sementara: tugas gagal dan diulang oleh Airflow; yang sudah terbaca tetap tersimpan.\n"
            "- Menjalankan ulang hari yang sama mengganti bacaan hari itu (tidak menggandakan)."
        ),
        is_paused_upon_creation=False,
    ) as dag:
        for channel_id in channels:
            channel = config.channels[channel_id]

            @task(task_id=f"baca_{channel_id}", task_display_name=f"Baca metrik {channel.name_id}")
            def read_channel(channel_id: str = channel_id) -> dict:
                from warta.reach import collect_channel
                from warta.service import default_service

                return collect_channel(default_service(), channel_id, reading_moment(get_current_context()),
                                       load_reach_settings())

            read_channel()
    return dag
