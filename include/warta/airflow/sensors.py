"""The sensor every human SOP step waits on."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.triggers.base import StartTriggerArgs

TRIGGER_CLASSPATH = "warta.airflow.triggers.StepRecordTrigger"


class StepRecordSensor(BaseSensorOperator):
    """Waits until a person records ``step_id`` for the run's item and round.

    The task begins in the triggerer (``start_from_trigger``): the scheduler hands
    ``StepRecordTrigger`` its templated item and round, the triggerer renders them (Airflow
    3.3) and ends the task itself when the record is there. A waiting step is never a task
    process; no worker slot, no task start-up. People may take days: the SOP clock (not
    the sensor) tracks lateness, so there is no timeout.

    ``execute`` exists for ``dag.test()``, which runs every task in process and ignores
    ``start_from_trigger``: there the sensor checks once, defers to the same trigger and
    resumes in ``execute_complete``.
    """

    template_fields = ("item_id", "round_number")
    ui_color = "#fde68a"
    start_from_trigger = True

    def __init__(
        self,
        *,
        step_id: str,
        once_per_item: bool = False,
        item_id: Any = "{{ dag_run.conf['item_id'] }}",
        round_number: Any = "{{ dag_run.conf.get('round', 1) }}",
        poll_seconds: float = 0.5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.step_id = step_id
        self.once_per_item = once_per_item
        self.item_id = item_id
        # A once-per-item step (the coverage) is recorded in round 1 whatever the round.
        self.round_number = 1 if once_per_item else round_number
        self.poll_seconds = poll_seconds
        # Trigger kwargs named like the template fields are rendered by the triggerer.
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=TRIGGER_CLASSPATH,
            trigger_kwargs={"item_id": self.item_id, "round_number": self.round_number,
                            "step_id": step_id, "poll_seconds": float(poll_seconds)},
            next_method="execute_complete",
            next_kwargs=None,
            timeout=None,
        )

    def _key(self) -> tuple[int, int]:
        return int(self.item_id), int(self.round_number)

    def poke(self, context) -> bool:
        from warta.service import default_service

        item_id, round_number = self._key()
        return default_service().is_recorded(item_id, round_number, self.step_id)

    def execute(self, context) -> None:
        from warta.airflow.triggers import StepRecordTrigger

        if self.poke(context):
            return
        item_id, round_number = self._key()
        self.defer(
            trigger=StepRecordTrigger(item_id, round_number, self.step_id, self.poll_seconds),
            method_name="execute_complete",
        )

    def execute_complete(self, context, event: Any = None) -> None:
        # The triggerer normally ends the task itself; `dag.test()` resumes here instead.
        return None
