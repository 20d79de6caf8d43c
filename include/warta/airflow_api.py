"""Starting an item's run through Airflow's REST API (v2).

Addressed and logged in only by the Airflow Connection ``warta_airflow_api`` (host,
port, login, password); the run outbox (warta.outbox) is its caller. Airflow answers
5xx under load now and then, so calls are retried (tenacity, honouring ``Retry-After``);
a run that already exists counts as started, so retrying never starts a round twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import tenacity

from warta import boundary
from warta.boundary import ConnectionNotFound
from warta.http_retry import retry_after_seconds

AIRFLOW_API_CONN_ID = "warta_airflow_api"


class AirflowApiError(RuntimeError):
    pass


class _Unanswered(Exception):
    """A call Airflow did not answer, or answered with a 5xx: safe to send again (a run
    that exists already answers 409, so a repeated trigger never starts a round twice)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


_backoff = tenacity.wait_exponential(multiplier=0.5, max=5)


def _told_or_exponential(state: tenacity.RetryCallState) -> float:
    told = getattr(state.outcome.exception(), "retry_after", None)
    return min(told, 60.0) if told is not None else _backoff(state)


@dataclass
class AirflowApi:
    base_url: str
    username: str | None = None
    password: str | None = None
    token: str | None = None
    timeout: float = 30.0
    attempts: int = 6
    # Tests give a transport (httpx.MockTransport) and a sleep that only records.
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_connection(cls, conn_id: str = AIRFLOW_API_CONN_ID) -> "AirflowApi":
        try:
            conn = boundary.connections().get(conn_id)
        except ConnectionNotFound:
            conn = None
        return cls.from_fields(conn, conn_id)

    @classmethod
    def from_fields(cls, conn, conn_id: str = AIRFLOW_API_CONN_ID) -> "AirflowApi":
        """From a connection's fields (``boundary.ConnectionInfo``); None: not defined."""
        if conn is None:
            raise AirflowApiError(
                f"Airflow Connection {conn_id!r} is not defined: set AIRFLOW_CONN_{conn_id.upper()} "
                "to Airflow's API address and a user's login"
            )
        scheme = conn.schema or "http"
        port = f":{conn.port}" if conn.port else ""
        return cls(f"{scheme}://{conn.host}{port}", conn.login, conn.password)

    def _headers(self, client: httpx.Client) -> dict[str, str]:
        if not self.token:
            if not self.username:
                raise AirflowApiError("no Airflow token or login to call the REST API with")
            response = client.post(
                f"{self.base_url}/auth/token", json={"username": self.username, "password": self.password}
            )
            if response.status_code not in (200, 201):
                raise AirflowApiError(
                    f"Airflow refused the login of {self.username!r} (HTTP {response.status_code})"
                )
            self.token = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.token}"}

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """One call; an unreachable Airflow or a 5xx answer is tried again (``attempts`` in
        all), after its ``Retry-After`` when it sends one, else 0.5 s, 1 s, 2 s, ... up to 5 s."""
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            def once() -> httpx.Response:
                try:
                    response = client.request(method, f"{self.base_url}{path}", headers=self._headers(client),
                                              **kwargs)
                    if response.status_code == 401 and self.username:  # the token expired: log in again
                        self.token = None
                        response = client.request(method, f"{self.base_url}{path}", headers=self._headers(client),
                                                  **kwargs)
                except httpx.TransportError as exc:
                    raise _Unanswered(f"cannot reach Airflow at {self.base_url}: {exc}") from None
                if response.status_code >= 500:
                    raise _Unanswered(f"Airflow answered HTTP {response.status_code} to {method} {path}",
                                      retry_after_seconds(response.headers.get("Retry-After")))
                return response

            retrying = tenacity.Retrying(
                retry=tenacity.retry_if_exception_type(_Unanswered),
                stop=tenacity.stop_after_attempt(self.attempts),
                wait=_told_or_exponential,
                sleep=self.sleep,
                reraise=True,
            )
            try:
                return retrying(once)
            except _Unanswered as exc:
                raise AirflowApiError(str(exc)) from None

    def get_run(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        response = self._request("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AirflowApiError(f"reading run {run_id}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    def trigger_run(self, dag_id: str, run_id: str, conf: dict[str, Any], note: str | None = None) -> dict[str, Any]:
        """Start the run (idempotent: a run with this id that exists already is returned).
        One request when the run is new; the run is looked up only when Airflow says it exists."""
        body: dict[str, Any] = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        if note:
            body["note"] = note[:1000]
        response = self._request("POST", f"/api/v2/dags/{dag_id}/dagRuns", json=body)
        if response.status_code in (200, 201):
            return response.json()
        if response.status_code == 409:
            return self.get_run(dag_id, run_id) or {"dag_run_id": run_id}
        if response.status_code == 404:
            raise AirflowApiError(
                f"Airflow does not know the DAG {dag_id!r} yet (is the dag-processor running?)"
            )
        raise AirflowApiError(f"starting run {run_id}: HTTP {response.status_code}: {response.text[:300]}")

    def clear_failed_task(self, dag_id: str, run_id: str, task_id: str, map_index: int,
                          note: str | None = None) -> list[dict[str, Any]]:
        """Clear one failed mapped task instance (``task_id`` at ``map_index``) of a run and
        what failed downstream of it because of it, so the scheduler runs it again once.
        Only failed instances are cleared: a channel that published is never touched. A
        task of that run still running answers 409 (``AirflowTaskRunning``)."""
        body: dict[str, Any] = {
            "dry_run": False, "dag_run_id": run_id, "task_ids": [[task_id, map_index]],
            "only_failed": True, "include_downstream": True, "reset_dag_runs": True,
            "prevent_running_task": True,
        }
        if note:
            body["note"] = note[:1000]
        response = self._request("POST", f"/api/v2/dags/{dag_id}/clearTaskInstances", json=body)
        if response.status_code == 409:
            raise AirflowTaskRunning(f"{task_id}[{map_index}] of {run_id} is running: {response.text[:300]}")
        if response.status_code != 200:
            raise AirflowApiError(f"clearing {task_id}[{map_index}] of {run_id}: HTTP {response.status_code}: "
                                  f"{response.text[:300]}")
        cleared = response.json().get("task_instances", [])
        if not any(ti.get("task_id") == task_id and ti.get("map_index") == map_index for ti in cleared):
            raise AirflowTaskRunning(f"{task_id}[{map_index}] of {run_id} is not failed in Airflow (nothing cleared)")
        return cleared


class AirflowTaskRunning(AirflowApiError):
    """The task to clear is running (or not failed): a retry is under way already."""


def run_note(title: str, round_number: int) -> str:
    """The note on an item's run in the Airflow UI: the title and the round, so a run is
    found by the item's title ("Berita baru: <judul>", "Revisi ke-2: <judul>")."""
    prefix = "Berita baru" if round_number <= 1 else f"Revisi ke-{round_number}"
    return f"{prefix}: {title}"[:1000]


def start_item_run(api: AirflowApi, *, dag_id: str, item_id: int, round_number: int, title: str) -> dict[str, Any]:
    """Start (or find) the Airflow run of one revision round of an item. The one place
    that knows the run id, its conf and its note: the CLI, the REST API and the desk's
    intake form all start runs through here. The note carries the item title, which the
    Airflow UI shows on the run."""
    from warta.models import run_id_for

    return api.trigger_run(
        dag_id, run_id_for(item_id, round_number), {"item_id": item_id, "round": round_number, "title": title},
        note=run_note(title, round_number),
    )
