# Warta's production image (docker-compose.yaml builds it; README "Production deployment").
#
# The official Apache Airflow 3.3.2 image, Python 3.11 variant: constraints.txt (the full
# lock) is resolved for Python 3.11, and pyproject.toml requires it.
FROM apache/airflow:3.3.2-python3.11

# The monthly report's PDF (WeasyPrint) needs Pango, HarfBuzz, fontconfig and the DejaVu
# fonts the report uses (the same Debian packages `make system-deps` installs).
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
 && apt-get autoremove -yqq --purge \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
USER airflow

# The runtime's exact pins only (requirements.txt and its lock constraints.txt; the dev and
# test tooling of requirements-dev.txt and dev/warta_dev never enter the image), as the
# airflow user. apache-airflow==${AIRFLOW_VERSION} (set by the official image) goes into the
# same pip call, as the image's docs require, so resolving the requirements can never
# upgrade or downgrade Airflow itself.
COPY --chown=airflow:0 requirements.txt constraints.txt /opt/warta/
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
      -r /opt/warta/requirements.txt -c /opt/warta/constraints.txt

# The warta package (the CLI `warta`, migrations, desk templates): its dependencies are
# all pinned above, so it adds none.
COPY --chown=airflow:0 pyproject.toml /opt/warta/
COPY --chown=airflow:0 include/ /opt/warta/include/
RUN pip install --no-cache-dir --no-deps /opt/warta

# DAGs, the plugin and the SOP config are baked in: no code is bind-mounted in production.
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 config/ /opt/airflow/config/
ENV WARTA_CONFIG_DIR=/opt/airflow/config
