"""Registers Warta with Airflow: its REST API inside the api-server, the login throttle on
the api-server's own app, and links from the Airflow UI to the item of each run.

Every Airflow process loads plugins, task processes too, but only the api-server reads
``fastapi_apps``: the web app is built on that first read, not when this module is
imported, so a task process never pays for FastAPI and the desk.
"""

from airflow.plugins_manager import AirflowPlugin

from warta.airflow import prompt_scheduling
from warta.web.login_throttle import LoginThrottle


class _WebAppOnFirstUse:
    """``fastapi_apps`` as Airflow's plugin manager reads it, built once when read."""

    def __init__(self):
        self._apps = None

    def __get__(self, plugin, owner=None) -> list[dict]:
        if self._apps is None:
            from warta.airflow.web_auth import create_airflow_web_app

            # Only the api-server reads the apps; its Execution API is where workers' tasks end.
            prompt_scheduling.install()

            self._apps = [{"app": create_airflow_web_app(), "url_prefix": "/warta", "name": "Warta"}]
        return self._apps


class WartaPlugin(AirflowPlugin):
    name = "warta"
    fastapi_apps = _WebAppOnFirstUse()
    # The scheduler and the triggerer examine a run at once when one of its tasks ends.
    listeners = [prompt_scheduling]
    # Logins are Airflow's routes (/auth/...), outside the mount: throttled on the root app.
    fastapi_root_middlewares = [{"middleware": LoginThrottle, "args": [], "kwargs": {}, "name": "warta-login-throttle"}]
    external_views = [
        {
            "name": "Warta API",
            "href": "/warta/api/v1/docs",
            "destination": "nav",
            "category": "browse",
            "url_route": "warta-api",
        },
        # The editorial desk, and from each run / task instance its news item (the desk
        # resolves run ids item-<id>-round-<n>; other DAGs' runs get a short "not Warta").
        {"name": "Warta Desk", "href": "/warta/desk/", "destination": "nav", "url_route": "warta-desk"},
        {"name": "Warta: berita", "href": "/warta/desk/runs/{RUN_ID}", "destination": "dag_run",
         "url_route": "warta-item"},
        {"name": "Warta: berita", "href": "/warta/desk/runs/{RUN_ID}", "destination": "task_instance",
         "url_route": "warta-item-task"},
    ]
