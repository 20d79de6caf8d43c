"""Registers Warta with Airflow: its REST API inside the api-server and links from the
Airflow UI to the item of each run."""

from airflow.plugins_manager import AirflowPlugin

from warta.airflow.rest_api import create_app


class WartaPlugin(AirflowPlugin):
    name = "warta"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/warta", "name": "Warta"}]
    external_views = [
        {
            "name": "Warta API",
            "href": "/warta/api/v1/docs",
            "destination": "nav",
            "category": "browse",
            "url_route": "warta-api",
        }
    ]
