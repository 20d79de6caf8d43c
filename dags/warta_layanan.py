"""Warta: SOP service levels. Every few minutes, reminders, breach alerts and escalations
for open steps, and the freshness warning for the website and channels.

Built from config/ (warta.yaml service_levels); nothing here touches a database or the network.
"""

from warta.airflow.service_level_dag import build_service_level_dag

dag = build_service_level_dag()
