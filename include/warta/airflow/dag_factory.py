"""The per-item DAG, built from the SOP in config/.

One run is one revision round of one news item (run id ``item-<id>-round-<n>``):

    human steps (begin in the triggerer) ─┬→ keputusan ─┬─ approved → [menunggu_jadwal_tayang] ┐
                                          │             └─ rejected → kembali_ke_pelaksana (queues round n+1)
                                          ├→ kanal ──────→ (updating → pengecekan)[channel] ─────────────────┬→ mendokumentasi
                                          └→ kanal_bertautan ──→ (updating_bertautan → pengecekan_bertautan)[channel] ┘
                                                       (each after the website's updating)

``keputusan`` (the decision), ``kanal`` (the channels that publish at once: the website)
and ``kanal_bertautan`` (the channels whose posts link to the website) only read the
editorial DB, so they run side by side as soon as the approval is recorded: one hop of
the scheduler, not three, before the website's post starts. The linking channels publish
after the website's ``updating`` and take its address from that task's XCom; the others
(the website itself) publish at once, each channel on its own.

A rejection ends the round and queues the next round in the run outbox (the editorial
DB; the outbox loop starts it as a new run of the same DAG), so the graph stays acyclic
and every round is visible in the Airflow UI.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk import DAG, get_current_context, task, task_group

from warta.airflow.schedule_wait import PublicationTimeSensor
from warta.airflow.sensors import StepRecordSensor
from warta.config import WartaConfig, get_config
from warta.formatting import formatter

ITEM_ID = "{{ dag_run.conf['item_id'] }}"
ROUND = "{{ dag_run.conf.get('round', 1) }}"
# A mapped task's label, from its own (rendered) argument: rendered before the task runs,
# so a task that fails at once, waits or is retried is named by its channel too.
CHANNEL_LABEL = LINKED_CHANNEL_LABEL = "{{ channel_label(task) }}"


def channel_labeller(config: WartaConfig):
    """``channel_label(task)`` for map_index_template: the channel a mapped publish/check
    task works on, as people name it ("Website", "Facebook"). Never raises: a label that
    cannot be made is empty (the UI shows the index), and never fails the task."""
    names = {c.id: c.name_id for c in config.channels.values()}

    def channel_label(task) -> str:
        try:
            kwargs = dict(getattr(task, "op_kwargs", None) or {})
            args = list(getattr(task, "op_args", None) or [])
            value = kwargs.get("channel", kwargs.get("post", args[0] if args else None))
            if isinstance(value, dict):
                value = value.get("channel")
            return names.get(value, str(value)) if isinstance(value, str) else ""
        except Exception:  # a label is cosmetic
            return ""

    return channel_label
DEFAULT_ARGS = {
    "owner": "warta",
    "retries": 3,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=5),
}


def _format_duration(delta: timedelta) -> str:
    """A standard time as the SOP writes it: '1 hari', '1 jam', '10 menit'."""
    return formatter("id", "UTC").duration(delta, parts=None)


def sop_doc_md(config: WartaConfig) -> str:
    sop = config.sop
    lines = [
        f"# SOP {sop.get('name', '')}",
        f"**Nomor SOP** {sop.get('number', '')} · **Unit** {sop.get('unit', '')}",
        "",
        "Satu run = satu putaran (round) satu berita. Langkah manusia menunggu catatan di "
        "database redaksi Warta (desk, REST API `/warta/api/v1`, atau CLI `warta`). Penolakan "
        "mengembalikan naskah ke Pelaksana Kegiatan dan memulai run putaran berikutnya.",
        "",
        "| No | Kegiatan | Pelaksana | Mutu baku (waktu) | Output |",
        "|---|---|---|---|---|",
    ]
    for step in config.steps:
        role = config.roles[step.role].name_id
        lines.append(
            f"| {step.number} | {step.name_id} | {role} | {_format_duration(step.standard_time)} | {step.output} |"
        )
    lines += ["", "Run conf: `{\"item_id\": <id berita>, \"round\": <putaran>}`."]
    return "\n".join(lines)


def _step_failed(exc) -> Exception:
    """Non-retryable failures fail the task at once; others let Airflow retry."""
    if exc.retryable:
        return RuntimeError(str(exc))
    return AirflowFailException(str(exc))


def _run_pipeline_step(name: str, item_id, round_number, channel: str | None = None, **kwargs) -> dict:
    """Run one of warta.pipeline's automatic steps inside a task (imports stay out of parsing)."""
    from warta import pipeline
    from warta.service import default_service

    step = getattr(pipeline, name)
    args = [default_service(), int(item_id), int(round_number)]
    if channel is not None:
        args.append(channel)
    try:
        return step(*args, **kwargs)
    except pipeline.StepFailed as exc:
        raise _step_failed(exc) from exc


def _channels_of(item_id, *, linked: bool) -> list[str]:
    """The item's channels that link to another channel's post (``linked``), or the others."""
    from warta.channel_routing import channels_at_once, linking_channels
    from warta.service import default_service

    service = default_service()
    channels = service.item_channels(int(item_id))
    return (linking_channels if linked else channels_at_once)(service.config, channels)


def _published_links(publish_task_id: str) -> dict[str, str]:
    """The addresses the publishing task of the channels others link to has published
    (channel → URL, from its XCom); a failed or skipped channel gives none."""
    results = get_current_context()["ti"].xcom_pull(task_ids=publish_task_id)
    results = [results] if isinstance(results, dict) else (results or [])
    return {r["channel"]: r["url"] for r in results if isinstance(r, dict) and r.get("url")}


def build_news_item_dag(config: WartaConfig | None = None) -> DAG:
    config = config or get_config()
    from warta.schedule_settings import schedule_settings

    schedule = schedule_settings()
    with DAG(
        dag_id=config.dag_id,
        dag_display_name=f"Berita: {config.sop.get('name', 'Updating Website dan Media Sosial')}",
        description="Satu berita melalui tujuh langkah SOP (satu run per putaran revisi)",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=config.max_active_runs,
        max_active_tasks=config.max_active_runs * 4,
        default_args=DEFAULT_ARGS,
        tags=["warta", "sop", "berita"],
        doc_md=sop_doc_md(config),
        render_template_as_native_obj=True,
        is_paused_upon_creation=False,
        # The mapped tasks' labels (map_index_template) name the channel as people do.
        user_defined_macros={"channel_label": channel_labeller(config)},
    ) as dag:
        previous = None
        for step in config.human_steps:
            sensor = StepRecordSensor(
                task_id=step.task_id,
                task_display_name=step.display_name,
                step_id=step.id,
                once_per_item=step.once_per_item,
                item_id=ITEM_ID,
                round_number=ROUND,
                poll_seconds=config.record_poll_seconds,
                doc_md=f"**{step.name_id}** ({step.name_en}). Pelaksana: "
                f"{config.roles[step.role].name_id}. Mutu baku: {_format_duration(step.standard_time)}.",
            )
            if previous is not None:
                previous >> sensor
            previous = sensor

        publish_step = config.step_of_kind("publish")
        check_step = config.step_of_kind("online_check")
        archive_step = config.step_of_kind("archive")

        @task.branch(task_id="keputusan", task_display_name="Keputusan: tayang atau perbaikan")
        def decide(item_id: int, round_number: int) -> str:
            from warta.service import default_service

            service = default_service()
            decision = service.decision(int(item_id), int(round_number))
            if decision == "approved":
                # A scheduled (or held) item waits for its time; any other goes on at once.
                return schedule.task_id if service.must_wait_for_schedule(int(item_id)) else publish_step.task_id
            if decision == "rejected":
                return "kembali_ke_pelaksana"
            raise AirflowFailException(f"item {item_id} round {round_number} has no decision recorded")

        # Jadwal tayang: the wait is its own task, deferred from the start (no worker slot),
        # following moves and cancels (warta.airflow.schedule_wait).
        wait_for_time = PublicationTimeSensor(
            task_id=schedule.task_id,
            task_display_name=schedule.name_id,
            item_id=ITEM_ID,
            poll_seconds=schedule.poll_seconds,
            doc_md=f"**{schedule.name_id}** ({schedule.name_en}). Hanya berita yang dijadwalkan menunggu di sini; "
                   "berita tanpa jadwal langsung diterbitkan.",
        )

        @task(task_id="kembali_ke_pelaksana",
              task_display_name="Dikembalikan ke Pelaksana Kegiatan untuk perbaikan")
        def next_round(item_id: int, round_number: int) -> dict:
            """Queue the next round's run in the outbox (idempotent: one request per run)."""
            from warta.service import default_service

            return default_service().request_run(int(item_id), int(round_number) + 1)

        @task(task_id="kanal", task_display_name="Kanal publikasi berita ini")
        def item_channels(item_id: int) -> list[str]:
            """The item's channels that publish at once: those not linking to another
            channel's post (the website); the linking ones are ``kanal_bertautan``."""
            return _channels_of(item_id, linked=False)

        @task(task_id="kanal_bertautan", task_display_name="Kanal yang menautkan berita di website")
        def linked_channels(item_id: int) -> list[str]:
            """The item's channels whose posts link to another channel's (the website's) article."""
            return _channels_of(item_id, linked=True)

        @task(
            task_id=publish_step.task_id,
            task_display_name=publish_step.display_name,
            map_index_template=CHANNEL_LABEL,
            # After the decision (unscheduled: the wait is skipped) or after the wait.
            trigger_rule="none_failed_min_one_success",
        )
        def publish(channel: str, item_id: int, round_number: int) -> dict:
            return _run_pipeline_step("publish", item_id, round_number, channel)

        @task(
            task_id=check_step.task_id,
            task_display_name=check_step.display_name,
            map_index_template=CHANNEL_LABEL,
        )
        def check(channel: str, item_id: int, round_number: int) -> dict:
            return _run_pipeline_step("check_online", item_id, round_number, channel)

        # Runs when the website's publishing has ended, however it ended: a failed website
        # gives no address and the social posts go out without the link. A rejection
        # skips the website's publishing, and with it these.
        @task(
            task_id=f"{publish_step.task_id}_bertautan",
            task_display_name=f"{publish_step.display_name} (dengan tautan website)",
            map_index_template=LINKED_CHANNEL_LABEL,
            trigger_rule="none_skipped",
        )
        def publish_linked(channel: str, item_id: int, round_number: int) -> dict:
            return _run_pipeline_step("publish", item_id, round_number, channel,
                                      links=_published_links(publish_step.task_id))

        @task(
            task_id=f"{check_step.task_id}_bertautan",
            task_display_name=f"{check_step.display_name} (dengan tautan website)",
            map_index_template=LINKED_CHANNEL_LABEL,
        )
        def check_linked(channel: str, item_id: int, round_number: int) -> dict:
            return _run_pipeline_step("check_online", item_id, round_number, channel)

        # Every channel is archived once all are checked; no linking channels at all
        # (an empty, skipped group) is fine.
        @task(task_id=archive_step.task_id, task_display_name=archive_step.display_name,
              trigger_rule="none_failed_min_one_success")
        def archive(item_id: int, round_number: int) -> dict:
            return _run_pipeline_step("archive", item_id, round_number)

        # One group instance per channel: a channel's check waits for its own publishing
        # only, so a failing channel stops neither the others' posts nor their checks.
        @task_group(group_id="kanal_publikasi", prefix_group_id=False,
                    tooltip="Publikasi dan pengecekan, satu per kanal")
        def per_channel(channel: str, item_id: int, round_number: int):
            published = publish(channel, item_id, round_number)
            checked = check(channel, item_id, round_number)
            published >> checked
            return checked

        @task_group(group_id="kanal_bertautan_publikasi", prefix_group_id=False,
                    tooltip="Media sosial yang menautkan berita di website: setelah website tayang")
        def per_linked_channel(channel: str, item_id: int, round_number: int):
            published = publish_linked(channel, item_id, round_number)
            checked = check_linked(channel, item_id, round_number)
            published >> checked
            return checked

        decision = decide(ITEM_ID, ROUND)
        channel_list = item_channels(ITEM_ID)
        linked_list = linked_channels(ITEM_ID)
        previous >> [decision, channel_list, linked_list]
        channels_done = per_channel.partial(item_id=ITEM_ID, round_number=ROUND).expand(channel=channel_list)
        linked_done = per_linked_channel.partial(item_id=ITEM_ID, round_number=ROUND).expand(channel=linked_list)
        decision >> [dag.get_task(publish_step.task_id), wait_for_time, next_round(ITEM_ID, ROUND)]
        wait_for_time >> dag.get_task(publish_step.task_id)
        dag.get_task(publish_step.task_id) >> dag.get_task(f"{publish_step.task_id}_bertautan")
        [channels_done, linked_done] >> archive(ITEM_ID, ROUND)
    return dag
