"""``dag.test()`` of one item with the desk flow: each hand-off recorded while the round's
run waits alerts the next role once, and the mapped tasks are named by their channel."""

from __future__ import annotations

from sqlalchemy import select

from tests.dags.test_dag_runs import _new_item, _up_to_check, airflow_db, dag, service, wordpress  # noqa: F401
from warta.models import Alert


def test_a_round_alerts_each_hand_off_once_and_names_mapped_tasks_by_channel(dag, service):  # noqa: F811
    item_id = _new_item(service, title="Gelar teknologi lada di Bangka Barat")
    _up_to_check(service, item_id)
    service.record_step(item_id, "menyetujui", "subkoor", decision="approve")

    run = dag.test(run_conf={"item_id": item_id, "round": 1})

    assert str(run.state) == "success"
    with service.sessions() as session:
        alerts = [(a.kind, a.step_id) for a in session.scalars(
            select(Alert).where(Alert.item_id == item_id).order_by(Alert.id))]
    assert alerts == [("handoff", "menyusun"), ("handoff", "memeriksa"), ("handoff", "menyetujui")]
    labels = {(ti.task_id, ti.map_index): ti.rendered_map_index for ti in run.get_task_instances()
              if ti.task_id in ("updating", "pengecekan")}
    assert labels == {("updating", 0): "Website", ("pengecekan", 0): "Website"}
