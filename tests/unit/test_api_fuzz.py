"""Property-based fuzzing of Warta's REST API from its own OpenAPI document (Schemathesis).

In process, against the ASGI app as the api-server mounts it (``/warta``), with real
Airflow JWT tokens (SimpleAuthManager signs them, the app validates them as in
production) and a real, migrated editorial DB seeded with items at every step. Every
generated case, valid and invalid (negative mode), is sent as each users.yaml user and
anonymously; every answer must be no 5xx, documented (status code, content type) and
conform to the response schema. Hypothesis drives it: ``WARTA_FUZZ_EXAMPLES`` cases per
route (default 25), so a run is several thousand requests.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from tests.fakes.graph import image_bytes

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = int(os.environ.get("WARTA_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STATUSES: Counter = Counter()


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory):
    from warta import db
    from warta.config import get_config
    from warta.service import EditorialService, Upload
    from warta.storage import Storage

    folder = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{folder / 'editorial.db'}"
    db.upgrade(url)
    service = EditorialService(db.session_factory(url), get_config(), Storage(str(folder / "files")))
    # Items at every human step, so fuzzed ids find real items in every state.
    for n in range(4):
        item = service.create_item("pelaksana", title=f"Berita {n}", submission_key=f"fuzz-{n}")
        if n >= 1:
            service.record_step(item["id"], "meliput", "pelaksana",
                                uploads=[Upload("foto.jpg", image_bytes(8, 6))])
        if n >= 2:
            service.record_step(item["id"], "menyusun", "pelaksana", title="Judul", body="<p>Isi</p>")
        if n >= 3:
            service.record_step(item["id"], "memeriksa", "operator", body="<p>Isi dikoreksi</p>")
    yield service
    db.dispose_all()


@pytest.fixture(scope="module")
def api_schema(airflow_tokens, fuzz_service):
    from fastapi import FastAPI

    from warta.airflow.web_auth import create_airflow_web_app
    from warta.web import deps

    web = create_airflow_web_app()
    web.dependency_overrides[deps.editorial_service] = lambda: fuzz_service
    root = FastAPI()
    root.mount("/warta", web)
    yield schemathesis.openapi.from_asgi("/warta/api/v1/openapi.json", root)


def _operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_gets_a_5xx_or_an_undocumented_answer(api_schema, airflow_tokens):
    # Hypothesis directly (Schemathesis' pytest plugin does not run on pytest 9): per
    # route and generation mode, EXAMPLES cases, each sent as every user and anonymously.
    from hypothesis import given

    operations = _operations(api_schema)
    assert len(operations) >= 13, [op.label for op in operations]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def send_as_everyone(case):
                for name in (*airflow_tokens, None):
                    headers = {"Authorization": f"Bearer {airflow_tokens[name]}"} if name else {}
                    response = case.call_and_validate(headers=headers, checks=CHECKS)
                    STATUSES[response.status_code] += 1
                    if name == "stranger":
                        # Signed, but nobody Warta knows: refused (unless the URL itself is wrong).
                        assert response.status_code in (400, 401, 404, 405, 413, 422), response.text
                    elif name is None:
                        # The case's own Authorization header, if any (a made-up token: 403).
                        assert response.status_code in (400, 401, 403, 404, 405, 413, 422), response.text

            send_as_everyone()
# ------------------------------------------------------------------ the desk pages
# Not in the OpenAPI document (HTML pages), so generated here: every route, with ids,
# queries and form fields from the edges (beyond 64 bits, negative, NUL, invalid UTF-8),
# as each user, authenticated as a browser is (the ``_token`` cookie plus CSRF).
def _desk_requests():
    from urllib.parse import quote

    from hypothesis import strategies as st

    # Path segments percent-encoded, as a browser sends them (NUL becomes %00).
    segment = st.text(max_size=12).filter(lambda t: t not in (".", "..")).map(lambda t: quote(t, safe=""))
    ids = st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.integers(1, 6), segment)
    text = st.one_of(st.text(max_size=40), st.sampled_from(["\x00", "a\x00b", "x" * 3000, "", " "]))
    steps = st.one_of(st.sampled_from(["meliput", "menyusun", "memeriksa", "menyetujui", "updating", "selesai"]),
                      segment)
    form = st.dictionaries(st.sampled_from(["title", "body", "notes", "decision", "reason", "activity_date",
                                            "place", "service", "channels", "submission_key", "reason_codes", "confirm"]), text, max_size=6)
    raw = st.binary(max_size=200)  # not even UTF-8
    query = st.dictionaries(st.sampled_from(["status", "step", "service", "q", "offset", "lang", "done"]),
                            st.one_of(text, ids.map(str)), max_size=4)
    return st.one_of(
        st.tuples(st.just("GET"), st.sampled_from(["/desk/", "/desk/items", "/desk/reports", "/desk/new",
                                                   "/items", "/desk", "/desk/month"]), query, st.none()),
        st.tuples(st.just("GET"), ids.map(lambda i: f"/desk/items/{i}"), query, st.none()),
        st.tuples(st.just("GET"), st.tuples(ids, ids).map(lambda p: f"/desk/items/{p[0]}/files/{p[1]}"),
                  st.just({}), st.none()),
        st.tuples(st.just("GET"), st.one_of(ids.map(lambda i: f"item-{i}-round-1"), segment).map(lambda r: f"/desk/runs/{r}"), st.just({}), st.none()),
        st.tuples(st.just("GET"), ids.map(lambda i: f"/items/{i}"), st.just({}), st.none()),
        st.tuples(st.just("POST"), st.just("/desk/new"), st.just({}), st.one_of(form, raw)),
        st.tuples(st.just("POST"), st.just("/desk/logout"), st.just({}), st.one_of(form, raw)),
        st.tuples(st.just("POST"), st.tuples(ids, steps).map(lambda p: f"/desk/items/{p[0]}/steps/{p[1]}"),
                  st.just({}), st.one_of(form, raw)),
    )


def test_no_desk_page_gets_a_5xx(api_schema, airflow_tokens):
    from fastapi.testclient import TestClient
    from hypothesis import given

    from warta.web.csrf import CSRF_COOKIE

    client = TestClient(api_schema.app, follow_redirects=False, raise_server_exceptions=False)
    csrf = {}
    for name in airflow_tokens:
        if name == "stranger":
            continue
        # ?inbox=1: the head of the unit's desk opens on the month page otherwise (a redirect).
        page = client.get("/warta/desk/?inbox=1", cookies={"_token": airflow_tokens[name]})
        assert page.status_code == 200, page.text
        csrf[name] = page.cookies.get(CSRF_COOKIE)

    @given(request=_desk_requests())
    @settings(max_examples=EXAMPLES * 10, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def send_as_everyone(request):
        method, path, params, body = request
        for name in ("pelaksana", "operator", "subkoor", "admin", "stranger"):
            cookies = {"_token": airflow_tokens[name], CSRF_COOKIE: csrf.get(name, "")}
            if isinstance(body, dict):
                data = {"csrf_token": csrf.get(name, ""), **body}
                response = client.request(method, f"/warta{path}", params=params, data=data, cookies=cookies)
            else:
                response = client.request(method, f"/warta{path}", params=params, content=body, cookies=cookies,
                                          headers={"content-type": "application/x-www-form-urlencoded"})
            STATUSES[response.status_code] += 1
            assert response.status_code < 500, (method, path, params, body, response.text[:500])
            if name == "stranger":
                assert response.status_code in (303, 307, 403, 404, 405, 413, 422), response.text[:300]

    send_as_everyone()


def test_fuzz_figures():
    """Printed for the report (``pytest -s``): requests sent and answers by status."""
    total = sum(STATUSES.values())
    server_errors = sum(n for code, n in STATUSES.items() if code >= 500)
    print(f"\nfuzz_requests={total} server_errors={server_errors} statuses={dict(sorted(STATUSES.items()))}")
    assert server_errors == 0
