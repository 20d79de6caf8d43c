"""Warta: one news item through the SOP "Updating Website dan Media Sosial".

The DAG is built from config/sop.yaml and config/channels.yaml; the logic lives in the
`warta` package (include/warta). Nothing here touches a database or the network.
"""

from warta.airflow.dag_factory import build_news_item_dag

dag = build_news_item_dag()
