"""Warta: newsroom automation for the SOP "Updating Website dan Media Sosial".

The package holds the business logic (models, workflow rules, service layer, channels,
storage). Only ``warta.airflow`` imports Airflow; the rest asks ``warta.boundary`` for
what it needs from the platform (connections, secrets, HTTP transport, object storage,
alert senders), which ``warta.airflow.boundary`` implements.
"""
