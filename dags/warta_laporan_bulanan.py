"""Warta: the monthly report "Laporan Bulanan Updating Website dan Media Sosial" (PDF, XLSX,
HTML), compiled from the editorial DB for the month just ended.

Built from config/ (warta.yaml report, sop.yaml); nothing here touches a database or the network.
"""

from warta.airflow.report_dag import build_monthly_report_dag

dag = build_monthly_report_dag()
