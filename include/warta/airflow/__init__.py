"""Airflow glue: the trigger and sensor for human steps, the pipeline's tasks and the
DAG built from the SOP config. The only part of Warta that imports Airflow."""
