"""The production topology without Docker (warta_dev.topology.DistributedStack): PostgreSQL and
Redis from Debian's packages, moto's S3 server for assets and archives, Airflow's
components as separate processes with CeleryExecutor and two Celery workers, and the FAB
auth manager with Warta's users synced into it. The publishing channels are the same
contract fakes as the embedded stack's system tests."""

from __future__ import annotations

import pytest

from tests.fakes.graph import graph_connection_json, serve_fake_graph
from tests.fakes.wordpress import airflow_connection_json, serve_fake_wordpress
from tests.fakes.x import serve_fake_x, x_connection_json
from tests.system.conftest import APP_PASSWORD, GRAPH_TOKEN, X_CLIENT_ID, X_REFRESH_TOKEN, Client
from warta_dev.devstack import free_port
from warta_dev.topology import DistributedStack


@pytest.fixture(scope="session")
def channels():
    website = serve_fake_wordpress(application_password=APP_PASSWORD)
    graph = serve_fake_graph(tokens=(GRAPH_TOKEN,))
    x_api = serve_fake_x(client_id=X_CLIENT_ID, refresh_token=X_REFRESH_TOKEN)
    yield {"website": website, "graph": graph, "x": x_api}
    for server in (website, graph, x_api):
        server.stop()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory, channels):
    website, graph, x_api = channels["website"], channels["graph"], channels["x"]
    stack = DistributedStack(
        home=tmp_path_factory.mktemp("airflow-home"),
        port=free_port(),
        parallelism=8,
        workers=2,
        worker_concurrency=2,
        extra_env={
            "AIRFLOW_CONN_WARTA_WEBSITE": airflow_connection_json(website, login="warta", password=APP_PASSWORD),
            "AIRFLOW_CONN_WARTA_FACEBOOK": graph_connection_json(graph, token=GRAPH_TOKEN,
                                                                 page_id=graph.fake.page_id),
            "AIRFLOW_CONN_WARTA_INSTAGRAM": graph_connection_json(graph, token=GRAPH_TOKEN,
                                                                  ig_user_id=graph.fake.ig_user_id),
            "AIRFLOW_CONN_WARTA_X": x_connection_json(x_api, client_id=X_CLIENT_ID, refresh_token=X_REFRESH_TOKEN),
        },
    )
    try:
        stack.start(timeout=300)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def people(cluster) -> dict[str, Client]:
    return {name: Client(cluster, name) for name in ("pelaksana", "operator", "subkoor", "kepala", "admin")}
