"""The triggerer side of human steps: many waiting triggers share one feed, which asks
the editorial DB a constant number of questions per poll however many wait."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow.triggers.base import TaskSuccessEvent
from warta.airflow.triggers import RecordFeed, StepRecordTrigger

WAITING = 120


@pytest.fixture
def items(service, editorial_url, monkeypatch):
    path = editorial_url.removeprefix("sqlite:///")
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_DB", json.dumps({"conn_type": "sqlite", "host": path}))
    return [service.create_item("pelaksana", title=f"Berita {n}")["id"] for n in range(WAITING)]


def test_many_waiters_one_feed_constant_queries(service, items):
    async def scenario():
        triggers = [StepRecordTrigger(item_id, 1, "meliput", poll_seconds=0.05) for item_id in items]
        waits = [asyncio.ensure_future(anext(trigger.run())) for trigger in triggers]
        await asyncio.sleep(0.3)
        assert not any(w.done() for w in waits)  # nothing recorded yet

        recorded = items[: WAITING // 2]
        await asyncio.to_thread(
            lambda: [service.record_step(i, "meliput", "pelaksana") for i in recorded]
        )
        events = await asyncio.wait_for(asyncio.gather(*waits[: WAITING // 2]), timeout=20)
        assert all(isinstance(event, TaskSuccessEvent) for event in events)
        await asyncio.sleep(0.3)
        assert not any(w.done() for w in waits[WAITING // 2 :])  # the others keep waiting

        feed = RecordFeed._feeds[id(asyncio.get_running_loop())]
        # One range query per poll, plus one batched look-up for newly registered waiters.
        assert feed.polls >= 3
        assert feed.queries <= 2 * feed.polls
        assert len(feed.waiters) == WAITING - WAITING // 2
        for w in waits[WAITING // 2 :]:
            w.cancel()
        await asyncio.gather(*waits[WAITING // 2 :], return_exceptions=True)
        assert not feed.waiters  # cancelled triggers unregister themselves

    asyncio.run(scenario())


def test_trigger_fires_at_once_for_a_record_made_before_it_started(service, items):
    service.record_step(items[0], "meliput", "pelaksana")

    async def scenario():
        trigger = StepRecordTrigger(items[0], 1, "meliput", poll_seconds=0.05)
        return await asyncio.wait_for(anext(trigger.run()), timeout=10)

    assert isinstance(asyncio.run(scenario()), TaskSuccessEvent)


def test_trigger_serializes_to_an_importable_path():
    classpath, kwargs = StepRecordTrigger(5, 2, "menyusun", 0.5).serialize()
    assert classpath == "warta.airflow.triggers.StepRecordTrigger"
    assert kwargs == {"item_id": 5, "round_number": 2, "step_id": "menyusun", "poll_seconds": 0.5}
    from airflow.sdk._shared.module_loading import import_string

    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_a_failing_connection_lookup_is_retried_not_the_end_of_every_wait(service, items, monkeypatch):
    """The editorial DB's Connection is looked up through the api-server, which may be
    restarting: the feed keeps trying instead of dying and leaving its waiters waiting."""
    import warta.db

    real = warta.db.aresolve_database_url
    failures = {"left": 2}

    async def flaky():
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("api-server restarting")
        return await real()

    monkeypatch.setattr(warta.db, "aresolve_database_url", flaky)
    service.record_step(items[1], "meliput", "pelaksana")

    async def scenario():
        trigger = StepRecordTrigger(items[1], 1, "meliput", poll_seconds=0.05)
        return await asyncio.wait_for(anext(trigger.run()), timeout=10)

    assert isinstance(asyncio.run(scenario()), TaskSuccessEvent)
    assert failures["left"] == 0
