"""Warta: reach and engagement of the posts on Facebook, Instagram and X, read once a day
for the first days after publishing and kept in the editorial DB for the monthly report.

Built from config/ (warta.yaml reach, channels.yaml); nothing here touches a database or the network.
"""

from warta.airflow.reach_dag import build_reach_dag

dag = build_reach_dag()
