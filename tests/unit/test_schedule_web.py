"""Jadwal tayang over HTTP in-process: the REST API (PUT/DELETE/release, 409 once fired),
the desk's item-page form and approval field, the inbox, the calendar page (month and week)
and the token-authenticated iCal feed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.unit.test_desk import as_user, client, csrf_of, post_form  # noqa: F401
from warta.scheduling import Scheduling

WIB = ZoneInfo("Asia/Jakarta")


def _wib(moment: datetime) -> str:
    return moment.astimezone(WIB).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def soon(clock):
    return (clock.now + timedelta(days=2)).replace(second=0)


def test_api_put_move_delete_release_and_409_once_fired(client, service, flow, clock, soon):
    item_id = flow.to_decision()
    as_user(client, "subkoor")
    url = f"/warta/api/v1/items/{item_id}/schedule"
    assert client.get(url).json()["state"] == "none"
    put = client.put(url, json={"publish_at": _wib(soon)})
    assert put.status_code == 200, put.text
    assert put.json()["state"] == "scheduled" and put.json()["publish_at"] == soon.isoformat()
    flow.approve(item_id)
    # Moving with a stale revision: 409; with the right one: moved.
    assert client.put(url, json={"publish_at": _wib(soon + timedelta(hours=1)), "revision": 0}).status_code == 409
    moved = client.put(url, json={"publish_at": (soon + timedelta(hours=1)).isoformat(), "revision": 1})
    assert moved.status_code == 200 and moved.json()["moved"] is True
    held = client.delete(url)
    assert held.status_code == 200 and held.json()["state"] == "held"
    released = client.post(f"{url}/release")
    assert released.status_code == 200 and released.json()["state"] == "released"
    again = client.put(url, json={"publish_at": _wib(soon)})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    assert client.delete(url).status_code == 409


def test_api_refuses_bad_times_people_and_items(client, service, flow, clock):
    item_id = flow.to_decision()
    url = f"/warta/api/v1/items/{item_id}/schedule"
    as_user(client, "pelaksana")
    assert client.put(url, json={"publish_at": _wib(clock.now + timedelta(days=1))}).status_code == 403
    as_user(client, "operator")
    past = client.put(url, json={"publish_at": _wib(clock.now - timedelta(hours=1))})
    assert past.status_code == 422 and past.json()["field"] == "publish_at"
    assert client.put(url, json={"publish_at": "lusa"}).status_code == 422
    assert client.put(url, json={}).status_code == 422
    assert client.put("/warta/api/v1/items/999999/schedule",
                      json={"publish_at": _wib(clock.now + timedelta(days=1))}).status_code == 404
    assert client.delete(url).status_code == 404  # nothing to cancel


def test_openapi_documents_the_schedule_routes(client):
    as_user(client, "operator")
    paths = client.get("/warta/api/v1/openapi.json").json()["paths"]
    assert {"put", "delete", "get"} <= set(paths["/api/v1/items/{item_id}/schedule"])
    assert "post" in paths["/api/v1/items/{item_id}/schedule/release"]
    assert "/api/v1/calendar/feed.ics" in paths and "/api/v1/calendar" in paths


def test_desk_approval_with_a_time_then_move_cancel_release(client, service, flow, clock, soon):
    item_id = flow.to_decision()
    as_user(client, "subkoor")
    # The time is set on the confirmation that approving asks for (it names the channels).
    confirm = post_form(client, f"/warta/desk/items/{item_id}/steps/menyetujui", {"decision": "approve"})
    assert confirm.status_code == 200 and 'data-testid="confirm-approval"' in confirm.text
    assert 'data-testid="approval-publish-at"' in confirm.text and "Waktu tayang (WIB)" in confirm.text
    approved = post_form(client, f"/warta/desk/items/{item_id}/steps/menyetujui",
                         {"decision": "approve", "confirm": "yes", "publish_at": _wib(soon)})
    assert approved.status_code == 303
    page = client.get(f"/warta/desk/items/{item_id}")
    assert 'data-state="scheduled"' in page.text and 'data-testid="schedule-release"' in page.text

    moved = post_form(client, f"/warta/desk/items/{item_id}/schedule", {"action": "set", "revision": "1",
                                                              "publish_at": _wib(soon + timedelta(hours=2))})
    assert moved.status_code == 303 and moved.headers["location"].endswith("?jadwal=set#jadwal")
    notice = client.get(moved.headers["location"].split("#")[0].replace("http://testserver", ""))
    assert "Jadwal tayang disimpan" in notice.text
    stale = post_form(client, f"/warta/desk/items/{item_id}/schedule", {"action": "set", "revision": "1",
                                                                       "publish_at": _wib(soon)})
    assert stale.status_code == 409
    bad = post_form(client, f"/warta/desk/items/{item_id}/schedule", {"action": "set", "publish_at": "besok"})
    assert bad.status_code == 422 and "Waktu tidak valid" in bad.text
    cancelled = post_form(client, f"/warta/desk/items/{item_id}/schedule", {"action": "cancel"})
    assert cancelled.status_code == 303
    assert 'data-state="held"' in client.get(f"/warta/desk/items/{item_id}").text
    inbox = client.get("/warta/desk/")
    assert 'data-testid="inbox-scheduled"' in inbox.text and "ditahan" in inbox.text
    released = post_form(client, f"/warta/desk/items/{item_id}/schedule", {"action": "release"})
    assert released.status_code == 303
    assert Scheduling(service).get(item_id)["state"] == "released"


def test_desk_schedule_form_needs_the_role_and_csrf(client, service, flow, clock, soon):
    item_id = flow.to_decision()
    as_user(client, "pelaksana")
    page = client.get(f"/warta/desk/items/{item_id}")
    assert 'data-testid="schedule-form"' not in page.text
    refused = post_form(client, f"/warta/desk/items/{item_id}/schedule", {"action": "set", "publish_at": _wib(soon)})
    assert refused.status_code == 403
    as_user(client, "operator")
    client.get(f"/warta/desk/items/{item_id}")
    assert client.post(f"/warta/desk/items/{item_id}/schedule",
                       data={"action": "set", "publish_at": _wib(soon)}).status_code == 403  # no CSRF token


@pytest.mark.parametrize("lang", ["id", "en"])
def test_calendar_month_and_week_show_scheduled_and_published(client, service, flow, clock, soon, lang):
    item_id = flow.create(title="Panen raya lada", channels=["website", "facebook"])
    flow.to_decision(item_id)
    Scheduling(service).schedule(item_id, "subkoor", soon)
    published = flow.to_publish(flow.create(title="Bimtek sudah terbit"))
    with service.sessions() as session:
        from warta.models import Publication

        session.add(Publication(item_id=published, channel="website", status="published", marker="m",
                                url="http://site/bimtek", published_at=clock.now))
        session.commit()
    as_user(client, "pelaksana")
    day = soon.astimezone(WIB).date().isoformat()
    month = client.get(f"/warta/desk/kalender?date={day}&lang={lang}")
    assert month.status_code == 200
    assert month.text.count('data-kind="scheduled"') == 2 and 'data-kind="published"' in month.text
    assert "Panen raya lada" in month.text and "http://site/bimtek" in month.text
    week = client.get(f"/warta/desk/kalender?view=week&date={day}&channel=facebook")
    assert week.text.count('data-testid="cal-entry"') == 1 and 'data-view="week"' in week.text
    assert client.get("/warta/desk/kalender?date=bukan-tanggal").status_code == 200
    assert ("Kalender tayang" if lang == "id" else "Publishing calendar") in month.text


def test_ical_feed_needs_its_token_and_a_new_token_replaces_the_old(client, service, flow, clock, soon):
    item_id = flow.to_decision()
    Scheduling(service).schedule(item_id, "subkoor", datetime.now(timezone.utc) + timedelta(days=1))
    assert client.get("/warta/api/v1/calendar/feed.ics?token=nope").status_code == 401
    as_user(client, "operator")
    page = client.get("/warta/desk/kalender")
    made = client.post("/warta/desk/kalender/token", data={"csrf_token": csrf_of(page)})
    assert made.status_code == 200
    url = made.text.split('data-testid="feed-url"')[0].rsplit('value="', 1)[1].split('"')[0]
    token = url.split("token=")[1]
    client.headers.pop("authorization")
    feed = client.get(f"/warta/api/v1/calendar/feed.ics?token={token}")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    [event] = Calendar.from_ical(feed.content).walk("VEVENT")
    assert "[Jadwal]" in str(event["summary"])
    as_user(client, "operator")
    api_made = client.post("/warta/api/v1/calendar/token")
    assert api_made.status_code == 201
    client.headers.pop("authorization")
    assert client.get(f"/warta/api/v1/calendar/feed.ics?token={token}").status_code == 401
    assert client.get(f"/warta/api/v1/calendar/feed.ics?token={api_made.json()['token']}").status_code == 200
