"""Settings for Airflow's own metadata DB when it is SQLite (the embedded default).

Under a burst of runs the scheduler otherwise dies on "database is locked" after
SQLite's default 5 s wait; wait longer instead (but not so long that
the execution API's clients time out first). Referenced by
``AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS`` (and ``..._ASYNC``) in the dev stack.
"""

SQLITE_CONNECT_ARGS = {"timeout": 20}
