"""Warta: newsroom automation for the SOP "Updating Website dan Media Sosial".

The package holds the business logic (models, workflow rules, service layer, channels,
storage). Only ``warta.airflow`` imports Airflow; everything else runs without it.
"""
