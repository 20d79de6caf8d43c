"""The sensor every human SOP step waits on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator

from warta.airflow.triggers import StepRecordTrigger


class StepRecordSensor(BaseSensorOperator):
    """Waits, deferred, until a person records ``step_id`` for the run's item and round.

    The item and round come from the run's conf. If the record already exists the task
    ends at once; otherwise it defers to ``StepRecordTrigger`` and holds no worker slot.
    """

    template_fields = ("item_id", "round_number")
    ui_color = "#fde68a"

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
        # People may take days: the SOP clock (not the sensor) tracks lateness.
        kwargs.setdefault("timeout", timedelta(days=365))
        kwargs.setdefault("mode", "poke")
        super().__init__(**kwargs)
        self.step_id = step_id
        self.once_per_item = once_per_item
        self.item_id = item_id
        self.round_number = round_number
        self.poll_seconds = poll_seconds

    def _key(self) -> tuple[int, int]:
        item_id, run_round = int(self.item_id), int(self.round_number)
        return item_id, (1 if self.once_per_item else run_round)

    def poke(self, context) -> bool:
        from warta.service import default_service

        item_id, round_number = self._key()
        return default_service().is_recorded(item_id, round_number, self.step_id)

    def execute(self, context) -> None:
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
