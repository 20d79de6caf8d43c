"""Waiting for people without holding a worker slot, and without one query per waiter.

Every ``StepRecordTrigger`` in a triggerer process registers the record it waits for
with one shared ``RecordFeed``. The feed asks the editorial DB once per poll interval
for records newer than the last it saw (ids only grow), so a thousand waiting tasks cost
one small query per interval. New waiters are checked in one batched query, and all
waiters are swept now and then, in case a record committed out of id order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any, AsyncIterator

from sqlalchemy import select, tuple_

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent

log = logging.getLogger(__name__)

Key = tuple[int, int, str]  # (item_id, round, step_id)

# Ids can commit out of order on PostgreSQL; re-reading a few recent ids costs nothing.
_ID_OVERLAP = 200
_SWEEP_SECONDS = 15.0
_BATCH = 500


class RecordFeed:
    """One poller per event loop, shared by every waiting trigger in it."""

    _feeds: dict[int, "RecordFeed"] = {}

    def __init__(self, poll_seconds: float):
        self.poll_seconds = poll_seconds
        self.waiters: dict[Key, set[asyncio.Future]] = defaultdict(set)
        self.unchecked: set[Key] = set()
        self.last_id: int | None = None
        self.last_sweep = 0.0
        self.url: str | None = None
        self.task: asyncio.Task | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queries = 0
        self.polls = 0

    @classmethod
    def for_running_loop(cls, poll_seconds: float) -> "RecordFeed":
        loop = asyncio.get_running_loop()
        feed = cls._feeds.get(id(loop))
        if feed is None or feed.loop is not loop:
            feed = cls(poll_seconds)
            feed.loop = loop
            cls._feeds[id(loop)] = feed
        return feed

    async def wait_for(self, key: Key) -> None:
        future = asyncio.get_running_loop().create_future()
        self.waiters[key].add(future)
        self.unchecked.add(key)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="warta-record-feed")
        try:
            await future
        finally:
            waiting = self.waiters.get(key)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self.waiters[key]

    async def _run(self) -> None:
        from warta.db import aresolve_database_url

        while self.waiters:
            unchecked, self.unchecked = self.unchecked, set()
            sweep = time.monotonic() - self.last_sweep > _SWEEP_SECONDS
            if sweep:
                unchecked = set(self.waiters)
                self.last_sweep = time.monotonic()
            # Anything failing here (the Connection's look-up through the api-server, the
            # DB restarting) is retried: if this loop ended, every waiter would wait for
            # good, with nothing failing.
            try:
                if self.url is None:
                    self.url = await aresolve_database_url()
                found = await asyncio.to_thread(self._poll, unchecked)
            except Exception:
                log.exception("Reading step records from the editorial DB failed; retrying")
                self.unchecked |= unchecked
                found = set()
            for key in found:
                for future in self.waiters.get(key, ()):
                    if not future.done():
                        future.set_result(None)
            await asyncio.sleep(self.poll_seconds)

    def _poll(self, unchecked: set[Key]) -> set[Key]:
        from warta.db import get_engine
        from warta.models import StepRecord

        engine = get_engine(self.url)
        found: set[Key] = set()
        self.polls += 1
        with engine.connect() as connection:
            if self.last_id is None:
                self.last_id = connection.scalar(
                    select(StepRecord.id).order_by(StepRecord.id.desc()).limit(1)
                ) or 0
            else:
                rows = connection.execute(
                    select(StepRecord.id, StepRecord.item_id, StepRecord.round, StepRecord.step_id)
                    .where(StepRecord.id > self.last_id - _ID_OVERLAP)
                    .order_by(StepRecord.id)
                ).all()
                self.queries += 1
                for record_id, item_id, round_number, step_id in rows:
                    found.add((item_id, round_number, step_id))
                    self.last_id = max(self.last_id, record_id)
            keys = list(unchecked)
            for start in range(0, len(keys), _BATCH):
                chunk = keys[start : start + _BATCH]
                rows = connection.execute(
                    select(StepRecord.item_id, StepRecord.round, StepRecord.step_id).where(
                        tuple_(StepRecord.item_id, StepRecord.round, StepRecord.step_id).in_(chunk)
                    )
                ).all()
                self.queries += 1
                found.update((i, r, s) for i, r, s in rows)
        return found


class StepRecordTrigger(BaseTrigger):
    """Fires when the editorial DB holds the record of ``step_id`` for the item's round.

    It ends the waiting task itself (``TaskSuccessEvent``): the task never needs a
    worker slot, which keeps "recorded → task done" short however many wait.

    Started from the triggerer (``StepRecordSensor.start_from_trigger``), ``item_id`` and
    ``round_number`` arrive as Jinja templates and are rendered in place before ``run``;
    they are read as numbers only there.
    """

    def __init__(self, item_id: Any, round_number: Any, step_id: str, poll_seconds: float = 0.5):
        super().__init__()
        self.item_id = item_id
        self.round_number = round_number
        self.step_id = step_id
        self.poll_seconds = float(poll_seconds)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "warta.airflow.triggers.StepRecordTrigger",
            {
                "item_id": self.item_id,
                "round_number": self.round_number,
                "step_id": self.step_id,
                "poll_seconds": self.poll_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        feed = RecordFeed.for_running_loop(self.poll_seconds)
        await feed.wait_for((int(self.item_id), int(self.round_number), self.step_id))
        self.log.info(
            "Step %s of item %s (round %s) is recorded", self.step_id, self.item_id, self.round_number
        )
        yield TaskSuccessEvent()
