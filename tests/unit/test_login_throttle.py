"""The login throttle in front of Airflow's login routes (per user and address)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient

from warta.web.login_throttle import LoginThrottle
from warta.config import Logins


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def _client(clock: Clock, **settings) -> TestClient:
    app = FastAPI()

    @app.post("/auth/token")
    async def token(request: Request):
        body = await request.json()
        if body.get("password") == "benar":
            return JSONResponse({"access_token": "t"}, status_code=201)
        return JSONResponse({"detail": "Invalid credentials"}, status_code=401)

    @app.post("/auth/login/")
    async def fab_page(request: Request):
        form = await request.form()
        return RedirectResponse("/" if form.get("password") == "benar" else "/auth/login/", status_code=302)

    logins = Logins(**({"throttle_max_failures": 3, "throttle_address_max_failures": 5,
                        "throttle_window": timedelta(minutes=15)} | settings))
    app.add_middleware(LoginThrottle, settings=lambda: logins, clock=clock)
    return TestClient(app, follow_redirects=False)


def _login(client, user, password="salah"):
    return client.post("/auth/token", json={"username": user, "password": password})


def test_a_user_is_throttled_after_the_failures_and_waits_out_the_window():
    clock = Clock()
    client = _client(clock)
    assert [_login(client, "operator").status_code for _ in range(3)] == [401, 401, 401]
    refused = _login(client, "operator", "benar")  # even the right password waits
    assert refused.status_code == 429 and "coba lagi" in refused.json()["detail"]
    assert 0 < int(refused.headers["retry-after"]) <= 900
    assert _login(client, "subkoor", "benar").status_code == 201  # another user is not locked out
    clock.now += 15 * 60 + 1
    assert _login(client, "Operator ", "benar").status_code == 201  # names compare as Airflow's do


def test_a_success_forgets_the_users_failures():
    client = _client(Clock())
    for _ in range(2):
        _login(client, "operator")
    assert _login(client, "operator", "benar").status_code == 201
    assert [_login(client, "operator").status_code for _ in range(3)] == [401, 401, 401]


def test_an_address_failing_for_many_users_is_throttled():
    client = _client(Clock())
    for n in range(5):
        assert _login(client, f"tebakan{n}").status_code == 401
    assert _login(client, "lain", "benar").status_code == 429


def test_fab_login_page_failures_count_too():
    client = _client(Clock())
    for _ in range(3):
        assert client.post("/auth/login/", data={"username": "admin", "password": "x"}).status_code == 302
    assert client.post("/auth/login/", data={"username": "admin", "password": "benar"}).status_code == 429


def test_zero_turns_the_throttle_off_and_other_routes_pass_untouched():
    client = _client(Clock(), throttle_max_failures=0)
    assert all(_login(client, "operator").status_code == 401 for _ in range(10))
