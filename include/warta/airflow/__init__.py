"""Airflow glue: the trigger and sensor for human steps, the pipeline's tasks and the
DAG built from the SOP config, the channels' Hooks (an Airflow provider) and the core's
platform interfaces implemented (``boundary``). The only part of Warta that imports
Airflow."""
