"""Airflow's REST API client: 5xx and unreachable answers are retried with tenacity
(after Retry-After when Airflow sends one), a run that exists counts as started."""

from __future__ import annotations

import httpx
import pytest

from warta.airflow_api import AirflowApi, AirflowApiError


def api_answering(*answers, slept: list[float]) -> tuple[AirflowApi, list[httpx.Request]]:
    requests: list[httpx.Request] = []
    pending = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    api = AirflowApi("http://airflow.test", token="t", transport=httpx.MockTransport(handle), sleep=slept.append)
    return api, requests


def test_a_busy_airflow_is_asked_again_after_the_wait_it_names():
    slept: list[float] = []
    api, requests = api_answering(
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.ConnectError("refused"),
        httpx.Response(500),
        httpx.Response(201, json={"dag_run_id": "item-1-round-1"}),
        slept=slept,
    )
    assert api.trigger_run("warta_berita", "item-1-round-1", {"item_id": 1})["dag_run_id"] == "item-1-round-1"
    assert len(requests) == 4
    assert slept == [3.0, 1.0, 2.0]  # as told, then the backoff of the 2nd and 3rd try


def test_a_run_that_exists_counts_as_started():
    slept: list[float] = []
    api, requests = api_answering(
        httpx.Response(409, json={"detail": "exists"}),
        httpx.Response(200, json={"dag_run_id": "item-1-round-1", "state": "running"}),
        slept=slept,
    )
    assert api.trigger_run("warta_berita", "item-1-round-1", {})["state"] == "running"
    assert [r.method for r in requests] == ["POST", "GET"] and slept == []


def test_giving_up_says_what_airflow_answered():
    slept: list[float] = []
    api, requests = api_answering(*[httpx.Response(500)] * 6, slept=slept)
    with pytest.raises(AirflowApiError, match="HTTP 500 to POST /api/v2/dags/warta_berita/dagRuns"):
        api.trigger_run("warta_berita", "item-1-round-1", {})
    assert len(requests) == 6 and slept == [0.5, 1.0, 2.0, 4.0, 5.0]
