"""Waiting for a scheduled publication time (jadwal tayang) without a worker slot.

Chosen design: a trigger that watches the editorial DB's schedule row, not a
``DateTimeTrigger``. A date-time trigger is armed with one moment; moving or cancelling
the schedule would have to find and replace the deferred task's trigger in Airflow's
metadata DB (or clear the task, which starts a worker). Watching the row follows a move
and a cancel by itself: the trigger fires when the row says ``released``.

Every ``PublicationTimeTrigger`` in a triggerer registers its item with one shared
``ScheduleFeed``, which once per ``poll_seconds`` runs two small statements for all
waiting items: one UPDATE releasing those whose time has come (the same conditional
UPDATE people's moves and cancels race against, so exactly one side wins), and one
SELECT of those released. A thousand waiting items cost two queries a second.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import BaseTrigger, StartTriggerArgs, TaskSuccessEvent, TriggerEvent

log = logging.getLogger(__name__)

TRIGGER_CLASSPATH = "warta.airflow.schedule_wait.PublicationTimeTrigger"
_BATCH = 500


class ScheduleFeed:
    """One poller per event loop, shared by every waiting schedule trigger in it."""

    _feeds: dict[int, "ScheduleFeed"] = {}

    def __init__(self, poll_seconds: float):
        self.poll_seconds = poll_seconds
        self.waiters: dict[int, set[asyncio.Future]] = {}
        self.url: str | None = None
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.polls = 0

    @classmethod
    def for_running_loop(cls, poll_seconds: float) -> "ScheduleFeed":
        loop = asyncio.get_running_loop()
        feed = cls._feeds.get(id(loop))
        if feed is None or feed.loop is not loop:
            feed = cls(poll_seconds)
            feed.loop = loop
            cls._feeds[id(loop)] = feed
        return feed

    async def wait_for(self, item_id: int) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(item_id, set()).add(future)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="warta-schedule-feed")
        try:
            await future
        finally:
            waiting = self.waiters.get(item_id)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self.waiters[item_id]

    async def _run(self) -> None:
        from warta.db import aresolve_database_url

        if self.url is None:
            self.url = await aresolve_database_url()
        while self.waiters:
            try:
                released = await asyncio.to_thread(self._poll, list(self.waiters))
            except Exception:  # the DB may be restarting: keep waiting, say why
                log.exception("Reading publication schedules from the editorial DB failed; retrying")
                released = set()
            for item_id in released:
                for future in self.waiters.get(item_id, ()):
                    if not future.done():
                        future.set_result(None)
            await asyncio.sleep(self.poll_seconds)

    def _poll(self, item_ids: list[int]) -> set[int]:
        from warta.db import get_engine
        from warta.scheduling import release_due, released_items

        self.polls += 1
        released: set[int] = set()
        now = datetime.now(timezone.utc)
        with get_engine(self.url).begin() as connection:
            for start in range(0, len(item_ids), _BATCH):
                chunk = item_ids[start:start + _BATCH]
                release_due(connection, chunk, now)
                released |= released_items(connection, chunk)
        return released


class PublicationTimeTrigger(BaseTrigger):
    """Fires when the item's publication schedule is released (its time came, or someone
    chose "Terbitkan sekarang"); a cancel (held) keeps it waiting. It ends the waiting
    task itself (``TaskSuccessEvent``): no worker slot at any point."""

    def __init__(self, item_id: Any, poll_seconds: float = 1.0):
        super().__init__()
        self.item_id = item_id
        self.poll_seconds = float(poll_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return TRIGGER_CLASSPATH, {"item_id": self.item_id, "poll_seconds": self.poll_seconds}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        feed = ScheduleFeed.for_running_loop(self.poll_seconds)
        await feed.wait_for(int(self.item_id))
        self.log.info("Item %s: its publication time has come (or it was released)", self.item_id)
        yield TaskSuccessEvent()


class PublicationTimeSensor(BaseSensorOperator):
    """The run's own task for the wait until the scheduled publication time.

    Begins in the triggerer (``start_from_trigger``) like the human steps: a scheduled
    item waiting for Monday 08:00 is a trigger row, never a task process. Only scheduled
    (or held) items reach it; the decision branch sends the others straight on.
    ``execute`` exists for ``dag.test()``, which ignores ``start_from_trigger``.
    """

    template_fields = ("item_id",)
    ui_color = "#bfdbfe"
    start_from_trigger = True

    def __init__(self, *, item_id: Any = "{{ dag_run.conf['item_id'] }}", poll_seconds: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.item_id = item_id
        self.poll_seconds = poll_seconds
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=TRIGGER_CLASSPATH,
            trigger_kwargs={"item_id": self.item_id, "poll_seconds": float(poll_seconds)},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=None,
        )

    def poke(self, context) -> bool:
        return False  # the trigger decides; dag.test() defers to it at once

    def execute(self, context) -> None:
        self.defer(trigger=PublicationTimeTrigger(int(self.item_id), self.poll_seconds),
                   method_name="execute_complete")

    def execute_complete(self, context, event: Any = None) -> None:
        return None
