"""The reach DAG ``jangkauan_kanal``: built from config (one task per social channel, the
daily schedule in WIB), and a ``dag.test()`` run against the Graph API and X contract
fakes: Facebook and X figures are kept, Instagram's missing permission is recorded as a
clear non-fatal state, and running the same day again replaces, never duplicates."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.fakes.graph import FeedPost, IgMedia, graph_connection_json, serve_fake_graph
from tests.fakes.x import Tweet, serve_fake_x, x_connection_json
from warta import db
from warta.config import get_config
from warta.models import PostMetric
from warta.service import EditorialService
from warta.storage import Storage

REPO = Path(__file__).resolve().parents[2]
DAG_ID = "jangkauan_kanal"
TOKEN = "reach-dag-token"


@pytest.fixture(scope="module")
def airflow_db():
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="module")
def setup(tmp_path_factory, airflow_db):
    home = tmp_path_factory.mktemp("reach-dag")
    url = f"sqlite:///{home / 'warta.db'}"
    graph = serve_fake_graph(tokens=(TOKEN,))
    x_api = serve_fake_x(client_id="warta-app", refresh_token="reach-refresh")
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_WARTA_DB", json.dumps({"conn_type": "sqlite", "host": str(home / "warta.db")}))
    mp.setenv("WARTA_STORAGE_URL", str(home / "files"))
    mp.setenv("AIRFLOW_CONN_WARTA_FACEBOOK", graph_connection_json(graph, token=TOKEN, page_id=graph.fake.page_id))
    mp.setenv("AIRFLOW_CONN_WARTA_INSTAGRAM", graph_connection_json(graph, token=TOKEN,
                                                                    ig_user_id=graph.fake.ig_user_id))
    mp.setenv("AIRFLOW_CONN_WARTA_X", x_connection_json(x_api, client_id="warta-app", refresh_token="reach-refresh"))
    db.upgrade(url)
    service = EditorialService(db.session_factory(url), get_config(), Storage(str(home / "files")))
    yield service, graph.fake, x_api.fake
    mp.undo()
    graph.stop()
    x_api.stop()


@pytest.fixture
def dag(setup):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "warta_jangkauan_kanal.py"))
    assert bag.import_errors == {}
    dag = bag.dags[DAG_ID]
    for task in dag.tasks:  # dag.test() would sit out a 10-minute retry delay: fail at once instead
        task.retries = 0
    return dag


def test_the_dag_is_built_from_config(dag):
    from airflow.sdk import CronTriggerTimetable

    assert [t.task_id for t in dag.tasks] == ["baca_facebook", "baca_instagram", "baca_x"]  # no website
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.expression == "0 7 * * *" and str(dag.timetable.timezone) == "Asia/Jakarta"
    assert dag.max_active_runs == 1 and not dag.catchup and "jangkauan" in dag.tags
    assert all(task.retry_delay >= timedelta(minutes=1) for task in dag.tasks)


def test_a_day_is_read_once_with_permission_errors_recorded_not_fatal(dag, setup):
    service, graph, x_api = setup
    now = datetime.now(timezone.utc).replace(microsecond=0)
    two_days_ago = now - timedelta(days=2)
    graph.posts[f"{graph.page_id}_77"] = FeedPost(id=f"{graph.page_id}_77", page_id=graph.page_id,
                                                  message="Panen lada", created=two_days_ago)
    graph.post_stats[f"{graph.page_id}_77"] = {"reach": 321, "reactions": {"like": 20}, "comments": 2, "shares": 1}
    graph.ig_media["7788"] = IgMedia(id="7788", ig_user_id=graph.ig_user_id, caption="Panen lada", media_type="IMAGE",
                                     media_url=None, created=two_days_ago)
    graph.missing_permissions = {"instagram_manage_insights"}
    x_api.tweets["1900000000000000777"] = Tweet(id="1900000000000000777", text="Panen lada", author_id=x_api.user_id,
                                                created_at=two_days_ago)
    x_api.tweet_stats["1900000000000000777"] = {"impression_count": 4321, "like_count": 9}
    service.clock = lambda: two_days_ago
    item_id = service.create_item("pelaksana", title="Panen lada", channels=["website", "facebook", "instagram", "x"])["id"]
    for channel, remote_id in (("facebook", f"{graph.page_id}_77"), ("instagram", "7788"), ("x", "1900000000000000777")):
        publication = service.publication_intent(item_id, channel)
        service.publication_done(publication.id, remote_id=remote_id, url=f"https://{channel}.example/{remote_id}")
    service.clock = lambda: datetime.now(timezone.utc)

    run = dag.test(logical_date=now)
    assert str(run.state) == "success"
    assert {ti.task_id: str(ti.state) for ti in run.get_task_instances()} == {
        "baca_facebook": "success", "baca_instagram": "success", "baca_x": "success"}

    def readings():
        with service.sessions() as session:
            return {(r.channel, r.reading_date): (r.status, r.reach, r.views, r.reactions, r.message)
                    for r in session.scalars(select(PostMetric))}

    first = readings()
    day = now.astimezone(timezone(timedelta(hours=7))).date()
    assert first[("facebook", day)][:4] == ("ok", 321, None, 20)
    assert first[("x", day)][:4] == ("ok", None, 4321, 9)
    status, *_, message = first[("instagram", day)]
    assert status == "no_access" and "Graph API error 10" in message and "warta_instagram" in message

    # The same day again (a re-run): replaced, not duplicated.
    graph.post_stats[f"{graph.page_id}_77"]["reach"] = 400
    graph.missing_permissions = set()
    again = dag.test(logical_date=now)
    assert str(again.state) == "success"
    second = readings()
    assert len(second) == 3
    assert second[("facebook", day)][:2] == ("ok", 321)  # already read ok today: not read again
    assert second[("instagram", day)][0] == "ok"  # the permission was granted: read now
