"""Reminders, breaches, escalation, freshness warnings and publishing failures, with a
clock the test moves: recorded once in the editorial DB, shown in the inbox, delivered
to a real local SMTP server and a fake chat endpoint through Airflow's notifiers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from sqlalchemy import select

from tests.fakes.notify import ChatEndpoint, SmtpSink
from warta import db, pipeline
from warta.alerts import AlertDesk, Notification
from warta.config import get_config, load_config
from warta.models import Alert
from warta.service import EditorialService

WIB = timezone(timedelta(hours=7))
LINK = "http://127.0.0.1:8080/warta/items/{}"
PELAKSANA_HOLDERS = ["admin", "pelaksana", "pelaksana2"]


def wib(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=WIB).astimezone(timezone.utc)


class RecordingSender:
    """Keeps what would have been sent; can be told to fail like an unreachable server."""

    def __init__(self, fail: bool = False):
        self.sent: list[Notification] = []
        self.fail = fail

    def send(self, notification: Notification) -> None:
        if self.fail:
            raise ConnectionRefusedError("SMTP server unreachable")
        self.sent.append(notification)

    def take(self) -> list[Notification]:
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture(autouse=True)
def _no_hand_off_alerts(monkeypatch):
    """These tests count service-level alerts and their deliveries; the hand-off alerts a
    recorded step writes (tests/unit/test_desk_flow.py) would be counted and sent too."""
    monkeypatch.setattr("warta.desk_flow.handoff_alerts", lambda *args, **kwargs: [])


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def desk(service, sender) -> AlertDesk:
    return AlertDesk(service, sender)


def alerts(service, **filters) -> list[Alert]:
    with service.sessions() as session:
        query = select(Alert).order_by(Alert.id)
        for name, value in filters.items():
            query = query.where(getattr(Alert, name) == value)
        return list(session.scalars(query))


def kinds(service, **filters) -> list[tuple[str, str]]:
    return [(a.kind, a.step_id) for a in alerts(service, **filters)]


def addresses(notifications) -> list[str]:
    return sorted(n.address for n in notifications)


def edit(folder, name, change):
    path = folder / name
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))


# ===================================================================== reminders, breaches
def test_reminder_then_breach_then_escalation(service, desk, sender, flow, clock):
    item_id = flow.create(title="Kunjungan agro eduwisata")  # Thu 26 Nov 08:00 WIB; 1 hari → Fri 08:00
    assert desk.scan_steps()["open_steps"] == 1
    assert alerts(service) == [] and sender.take() == []

    clock.now = wib("2026-11-27T07:44")
    desk.scan_steps()
    assert alerts(service) == []

    clock.now = wib("2026-11-27T07:46")  # 15 minutes before due
    assert desk.scan_steps()["reminder"] == 1
    [reminder] = alerts(service)
    assert (reminder.kind, reminder.item_id, reminder.round, reminder.step_id) == ("reminder", item_id, 1, "meliput")
    assert reminder.recipients == PELAKSANA_HOLDERS
    sent = sender.take()
    assert addresses(sent) == ["admin@warta.localhost", "pelaksana2@warta.localhost", "pelaksana@warta.localhost"]
    text = sent[0].text
    assert "Kunjungan agro eduwisata" in text  # what waits
    assert "Langkah: 1. Meliput kegiatan" in text
    assert "Menunggu: Pelaksana Kegiatan (admin, pelaksana, pelaksana2)" in text  # for whom
    assert "Sejak: Kamis, 26 November 2026 08.00 WIB" in text  # since when
    assert "Batas waktu: Jumat, 27 November 2026 08.00 WIB (mutu baku 1 hari, jam kerja)" in text
    assert sent[0].link == LINK.format(item_id) and f"Buka di desk: {LINK.format(item_id)}" in text
    assert reminder.sent_at == clock.now

    desk.scan_steps()
    assert sender.take() == []

    clock.now = wib("2026-11-27T08:01")
    assert desk.scan_steps()["breach"] == 1
    breach = alerts(service, kind="breach")[0]
    assert breach.recipients == PELAKSANA_HOLDERS
    assert "Terlambat" in breach.subject and "Terlambat: 1 menit" in breach.message
    assert breach.waiting_since == wib("2026-11-26T08:00") and breach.due_at == wib("2026-11-27T08:00")
    assert len(sender.take()) == 3

    clock.now = wib("2026-11-27T09:00")  # escalate_after 1h
    assert desk.scan_steps()["escalation"] == 1
    escalation = alerts(service, kind="escalation")[0]
    assert escalation.recipients == ["admin", "subkoor"]
    assert "Eskalasi kepada Subkoordinator" in escalation.message
    assert addresses(sender.take()) == ["admin@warta.localhost", "subkoor@warta.localhost"]

    clock.advance(3600)
    assert desk.scan_steps() == {"reminder": 0, "breach": 0, "escalation": 0, "open_steps": 1, "redelivered": 0}
    assert sender.take() == []
    assert kinds(service) == [("reminder", "meliput"), ("breach", "meliput"), ("escalation", "meliput")]


def test_a_late_first_scan_sends_the_breach_not_a_stale_reminder(service, desk, sender, flow, clock):
    flow.create()
    clock.now = wib("2026-11-27T08:30")
    desk.scan_steps()
    assert kinds(service) == [("breach", "meliput")]
    clock.now = wib("2026-11-30T10:00")
    desk.scan_steps()
    assert kinds(service) == [("breach", "meliput"), ("escalation", "meliput")]


def test_alerts_stop_when_the_step_is_done(service, desk, sender, flow, clock):
    item_id = flow.create()
    clock.advance(60)
    flow.cover(item_id)  # menyusun starts 08:01, due 09:01
    clock.now = wib("2026-11-26T08:50")
    desk.scan_steps()
    assert kinds(service) == [("reminder", "menyusun")]
    flow.write(item_id)  # memeriksa starts 08:50, due 09:50
    clock.now = wib("2026-11-26T09:40")
    desk.scan_steps()
    clock.now = wib("2026-11-26T09:55")
    desk.scan_steps()
    # menyusun is done: no breach for it, however late it is now; memeriksa breached.
    assert kinds(service) == [("reminder", "menyusun"), ("reminder", "memeriksa"), ("breach", "memeriksa")]
    assert alerts(service, kind="breach")[0].recipients == ["admin", "operator"]
    flow.correct(item_id)
    flow.approve(item_id)
    flow.finish(item_id)
    before = len(alerts(service))
    clock.advance(7 * 86400)
    assert desk.scan_steps()["open_steps"] == 0
    assert len(alerts(service)) == before


def test_the_subkoordinators_own_step_escalates_to_the_deputy(config_copy, make_service, sender, flow, clock):
    edit(config_copy, "users.yaml", lambda d: d["users"].update(
        plh={"full_name": "Plh Subkoordinator", "roles": [], "email": "plh@warta.localhost"}
    ))
    edit(config_copy, "warta.yaml", lambda d: d["service_levels"].update(deputies=["plh"]))
    service = make_service(load_config(config_copy))
    desk = AlertDesk(service, sender)
    flow.service = service
    item_id = flow.to_decision()  # menyetujui starts Thu 08:00, due 09:00, escalates 10:00
    other = flow.create(title="Berita lain")  # meliput: not the Subkoordinator's step
    clock.now = wib("2026-11-27T09:30")
    desk.scan_steps()
    [approval_escalation] = alerts(service, kind="escalation", item_id=item_id)
    assert approval_escalation.step_id == "menyetujui"
    assert approval_escalation.recipients == ["admin", "plh", "subkoor"]
    assert "dan Plt/Plh" in approval_escalation.message
    assert "plh@warta.localhost" in addresses(sender.sent)
    [other_escalation] = alerts(service, kind="escalation", item_id=other)
    assert other_escalation.recipients == ["admin", "subkoor"]


def test_weekend_does_not_count(service, desk, sender, flow, clock):
    clock.now = wib("2026-11-27T09:00")  # Friday
    item_id = flow.create()
    clock.now = wib("2026-11-27T15:45")
    flow.cover(item_id)  # menyusun 1 jam: 45 min on Friday (ends 16:30), 15 on Monday → Mon 07:45
    [row] = service.waiting_for(role="pelaksana_kegiatan")
    assert datetime.fromisoformat(row["service_due_at"]) == wib("2026-11-30T07:45")
    clock.now = wib("2026-11-28T12:00")  # Saturday
    desk.scan_steps()
    clock.now = wib("2026-11-29T20:00")  # Sunday
    desk.scan_steps()
    assert kinds(service) == []
    clock.now = wib("2026-11-30T07:31")  # 15 working minutes before due
    desk.scan_steps()
    assert kinds(service) == [("reminder", "menyusun")]
    clock.now = wib("2026-11-30T07:44")
    desk.scan_steps()
    assert kinds(service) == [("reminder", "menyusun")]
    clock.now = wib("2026-11-30T07:46")
    desk.scan_steps()
    assert kinds(service) == [("reminder", "menyusun"), ("breach", "menyusun")]


def test_public_holiday_does_not_count(service, desk, sender, flow, clock):
    clock.now = wib("2026-08-14T09:00")  # Friday before Independence Day (Monday 17 August)
    item_id = flow.create()
    clock.now = wib("2026-08-14T16:00")
    flow.cover(item_id)  # 30 min on Friday; Monday is a holiday; 30 min on Tuesday → 08:00
    clock.now = wib("2026-08-17T12:00")
    desk.scan_steps()
    assert ("breach", "menyusun") not in kinds(service)
    clock.now = wib("2026-08-18T08:01")
    desk.scan_steps()
    assert ("breach", "menyusun") in kinds(service)


def test_automatic_steps_breach_on_the_wall_clock_without_reminders(service, desk, sender, flow, clock):
    clock.now = wib("2026-11-28T21:00")  # Saturday night: the pipeline works anyway
    item_id = flow.to_publish()
    clock.advance(9 * 60)
    desk.scan_steps()
    assert alerts(service) == []
    clock.advance(2 * 60)
    desk.scan_steps()
    assert kinds(service) == [("breach", "updating")]
    assert alerts(service)[0].recipients == ["admin", "operator"]
    assert "waktu berjalan" in alerts(service)[0].message


# ===================================================================== exactly once
def test_no_duplicate_alert_after_a_scheduler_restart(editorial_url, storage, service, desk, sender, flow, clock):
    flow.create()
    clock.now = wib("2026-11-27T08:05")
    desk.scan_steps()
    assert kinds(service) == [("breach", "meliput")]
    assert len(sender.take()) == 3

    # A new process: new engine, new service, new desk, same database.
    db.dispose_all()
    restarted = EditorialService(db.session_factory(editorial_url), get_config(), storage, clock=clock)
    new_sender = RecordingSender()
    for _ in range(3):
        AlertDesk(restarted, new_sender).scan_steps()
    assert new_sender.sent == []
    assert kinds(restarted) == [("breach", "meliput")]


def test_an_undelivered_alert_is_delivered_once_after_a_restart(editorial_url, storage, service, flow, clock):
    flow.create()
    clock.now = wib("2026-11-27T08:05")
    down = RecordingSender(fail=True)
    AlertDesk(service, down).scan_steps()
    [breach] = alerts(service)
    assert breach.sent_at is None and breach.attempts == 1
    assert {d["status"] for d in breach.deliveries} == {"failed"}
    assert "SMTP server unreachable" in breach.deliveries[0]["error"]

    clock.advance(5 * 60 + 1)  # the failed attempt's claim has lapsed
    restarted = EditorialService(db.session_factory(editorial_url), get_config(), storage, clock=clock)
    up = RecordingSender()
    result = AlertDesk(restarted, up).scan_steps()
    assert result["breach"] == 0 and result["redelivered"] == 1
    assert len(up.take()) == 3
    clock.advance(3600)
    AlertDesk(restarted, up).scan_steps()
    assert up.sent == [] or {n.kind for n in up.sent} == {"escalation"}
    [breach] = alerts(service, kind="breach")
    assert breach.sent_at is not None and {d["status"] for d in breach.deliveries} == {"sent"}


def test_delivery_attempts_stop_at_the_limit(service, flow, clock):
    flow.create()
    clock.now = wib("2026-11-27T08:05")
    down = RecordingSender(fail=True)
    desk = AlertDesk(service, down)
    for _ in range(10):
        desk.scan_steps()
        clock.advance(5 * 60 + 1)
    for alert in alerts(service):
        assert alert.attempts == service.config.service_levels.max_delivery_attempts
        assert alert.sent_at is None


def test_a_concurrent_scanner_records_nothing_twice(service, sender, flow, clock):
    flow.create()
    clock.now = wib("2026-11-27T08:05")
    first, second = AlertDesk(service, sender), AlertDesk(service, RecordingSender())
    first.scan_steps()
    second.scan_steps()
    assert kinds(service) == [("breach", "meliput")]
    assert second.sender.sent == []


def test_users_without_a_channel_are_recorded_as_skipped(config_copy, make_service, sender, flow, clock):
    edit(config_copy, "users.yaml", lambda d: d["users"]["pelaksana2"].update(notify="none"))
    service = make_service(load_config(config_copy))
    flow.service = service
    flow.create()
    clock.now = wib("2026-11-27T08:05")
    AlertDesk(service, sender).scan_steps()
    [breach] = alerts(service)
    assert {d["address"]: d["status"] for d in breach.deliveries} == {
        "admin@warta.localhost": "sent", "pelaksana@warta.localhost": "sent", "": "skipped",
    }
    assert breach.sent_at is not None


# ===================================================================== desk inbox
def test_inbox_shows_breaches_and_alerts(service, desk, flow, clock):
    late = flow.create(title="Terlambat")
    clock.now = wib("2026-11-27T07:00")
    fresh = flow.create(title="Baru")
    clock.now = wib("2026-11-27T08:10")
    desk.scan_steps()
    rows = {r["id"]: r for r in service.waiting_for(role="pelaksana_kegiatan")}
    assert rows[late]["breached"] is True and rows[fresh]["breached"] is False
    assert rows[late]["clock"] == "working_hours"
    assert datetime.fromisoformat(rows[late]["service_due_at"]) == wib("2026-11-27T08:00")
    assert [a["kind"] for a in rows[late]["alerts"]] == ["breach"]
    assert rows[late]["alerts"][0]["recipients"] == PELAKSANA_HOLDERS
    assert rows[late]["alerts"][0]["sent_at"] is not None
    assert rows[fresh]["alerts"] == []
    # The fields that were there before keep their meaning.
    assert {"waiting_since", "due_at", "seconds_left", "overdue", "step_role"} <= set(rows[late])
    assert [a["kind"] for a in service.history(late)["alerts"]] == ["breach"]


# ===================================================================== freshness
def publish_now(service, item_id, channel="website"):
    publication = service.publication_intent(item_id, channel)
    service.publication_done(publication.id, remote_id="1", url=f"https://www.example.go.id/{item_id}")


def test_freshness_warns_the_operator_once_per_stale_stretch(service, desk, sender, flow, clock):
    assert desk.check_freshness() == {"stale_channels": [], "alerts": 0}  # nothing to measure yet
    item_id = flow.create()
    clock.advance(3 * 86400 - 60)
    assert desk.check_freshness()["alerts"] == 0
    clock.advance(60)
    assert desk.check_freshness() == {"stale_channels": ["website"], "alerts": 1}
    [warning] = alerts(service, kind="freshness")
    assert warning.recipients == ["admin", "operator"] and warning.publishing_channel == "website"
    assert "belum pernah ada publikasi" in warning.message
    assert "Website dan sosial media perlu selalu update" in warning.message
    assert addresses(sender.take()) == ["admin@warta.localhost", "operator@warta.localhost"]
    assert desk.check_freshness()["alerts"] == 0
    clock.advance(86400)
    assert desk.check_freshness()["alerts"] == 0
    clock.advance(2 * 86400)  # another 3 days without news
    assert desk.check_freshness()["alerts"] == 1

    publish_now(service, item_id)
    published_at = clock.now
    clock.advance(2 * 86400)
    assert desk.check_freshness() == {"stale_channels": [], "alerts": 0}
    clock.advance(86400)
    assert desk.check_freshness()["alerts"] == 1
    latest = alerts(service, kind="freshness")[-1]
    assert latest.waiting_since == published_at
    assert f"https://www.example.go.id/{item_id}" in latest.message


def test_freshness_watches_a_channel_once_it_is_in_use(config_copy, make_service, sender, flow, clock):
    edit(config_copy, "channels.yaml", lambda d: d["channels"].update(
        facebook={"name_id": "Facebook", "kind": "facebook_page", "conn_id": "warta_facebook"},
        instagram={"name_id": "Instagram", "kind": "instagram", "conn_id": "warta_instagram", "freshness_days": 7},
    ))
    service = make_service(load_config(config_copy))
    flow.service = service
    desk = AlertDesk(service, sender)
    item_id = flow.create(channels=["website", "facebook", "instagram"])
    publish_now(service, item_id, "website")
    publish_now(service, item_id, "facebook")
    publish_now(service, item_id, "instagram")
    clock.advance(3 * 86400)
    # Instagram has its own limit (7 days); a configured channel never used is not watched.
    assert sorted(desk.check_freshness()["stale_channels"]) == ["facebook", "website"]
    clock.advance(4 * 86400)
    assert sorted(desk.check_freshness()["stale_channels"]) == ["facebook", "instagram", "website"]


def test_configured_but_unused_channel_is_not_watched(config_copy, make_service, sender, flow, clock):
    edit(config_copy, "channels.yaml", lambda d: d["channels"].update(
        facebook={"name_id": "Facebook", "kind": "facebook_page", "conn_id": "warta_facebook"},
    ))
    service = make_service(load_config(config_copy))
    flow.service = service
    flow.create()
    clock.advance(10 * 86400)
    assert AlertDesk(service, sender).check_freshness()["stale_channels"] == ["website"]


# ============================================== real SMTP server and fake chat endpoint
@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def chat():
    endpoint = ChatEndpoint.start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def notifying_service(config_copy, make_service, smtp, chat, monkeypatch, flow):
    """Operator on chat, everyone else on email, through the Airflow connections."""
    edit(config_copy, "users.yaml", lambda d: d["users"]["operator"].update(notify="chat", chat_tag="operator"))
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_SMTP", smtp.connection_json())
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_CHAT", chat.connection_json({"operator": "/operator-chat"}))
    smtp.messages.clear()
    chat.received.clear()
    service = make_service(load_config(config_copy))
    flow.service = service
    return service


def test_breach_reaches_a_real_smtp_server_and_the_chat(notifying_service, smtp, chat, flow, clock):
    from warta.airflow.notifiers import AirflowNotifierSender

    service = notifying_service
    item_id = flow.to_publish()
    clock.advance(11 * 60)
    item2 = flow.create(title="Bimtek <cabai> & padi {{ 7 * 7 }}")  # Thu 08:11: 1 hari → Fri 08:11
    clock.now = wib("2026-11-27T08:20")
    AlertDesk(service, AirflowNotifierSender.from_config(service.config)).scan_steps()

    # The publish step (Operator's) breached: admin by email, operator by chat.
    publish_breach = f"Terlambat: langkah 5 (Melakukan proses updating ke sistem) berita #{item_id}"
    [message] = [m for m in smtp.to("admin@warta.localhost") if publish_breach in m.subject]
    assert message.mail_from == "warta@warta.localhost"
    assert LINK.format(item_id) in message.html
    [posted] = [p for p in chat.received if p["title"].startswith("[Warta] Terlambat") and f"#{item_id}" in p["title"]]
    assert posted["path"] == "/operator-chat"
    assert "Menunggu: Operator Website dan Media Sosial" in posted["message"]
    assert LINK.format(item_id) in posted["message"]
    # Titles are text, escaped in HTML and never run as templates.
    coverage_breach = f"Terlambat: langkah 1 (Meliput kegiatan) berita #{item2}"
    [mail2] = [m for m in smtp.to("pelaksana@warta.localhost") if coverage_breach in m.subject]
    assert "Bimtek &lt;cabai&gt; &amp; padi {{ 7 * 7 }}" in mail2.html
    breach = alerts(service, kind="breach", item_id=item_id)[0]
    assert breach.sent_at is not None
    assert {d["channel"]: d["status"] for d in breach.deliveries} == {"email": "sent", "chat": "sent"}


def test_chat_target_that_is_not_configured_is_a_failed_delivery(notifying_service, chat, monkeypatch, flow, clock):
    from warta.airflow.notifiers import AirflowNotifierSender

    monkeypatch.setenv("AIRFLOW_CONN_WARTA_CHAT", chat.connection_json({"redaksi": "/group"}))
    service = notifying_service
    item_id = flow.to_publish()
    clock.advance(11 * 60)
    AlertDesk(service, AirflowNotifierSender.from_config(service.config)).scan_steps()
    breach = alerts(service, kind="breach", item_id=item_id)[0]
    statuses = {d["channel"]: (d["status"], d["error"]) for d in breach.deliveries}
    assert statuses["email"] == ("sent", "")
    assert statuses["chat"][0] == "failed" and "'operator'" in statuses["chat"][1]
    assert breach.sent_at is None


def test_publishing_failures_go_through_the_alert_path(notifying_service, smtp, chat, flow, clock):
    service = notifying_service
    item_id = flow.to_publish()
    message = "Website: the site refused the Application Password (HTTP 401); fix the connection warta_website"
    for _ in range(3):  # the task and its retries
        pipeline.alert_operator(service, item_id, message)
    [failure] = alerts(service, kind="publish_failure")
    assert (failure.item_id, failure.round, failure.step_id, failure.publishing_channel) == (
        item_id, 1, "updating", "website"
    )
    assert failure.recipients == ["admin", "operator"]
    assert message in failure.message and LINK.format(item_id) in failure.message
    assert len([m for m in smtp.to("admin@warta.localhost") if "Publikasi gagal" in m.subject]) == 1
    assert len([p for p in chat.received if "Publikasi gagal" in p["title"]]) == 1
    service.complete_automatic_step(item_id, 1, "updating")
    pipeline.alert_operator(service, item_id, "Website: online check of https://x/1 failed: image missing")
    [check] = alerts(service, kind="check_failure")
    assert check.step_id == "pengecekan"
    assert [p for p in chat.received if "Pengecekan online gagal" in p["title"]]


def test_alert_operator_never_raises_when_delivery_fails(service, flow, monkeypatch, caplog):
    monkeypatch.setenv("AIRFLOW_CONN_WARTA_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": 9,
        "extra": {"from_email": "w@x", "disable_tls": True, "disable_ssl": True, "retry_limit": 0, "timeout": 2},
    }))
    item_id = flow.to_publish()
    pipeline.alert_operator(service, item_id, "Website: token expired")
    [failure] = alerts(service, kind="publish_failure")
    assert failure.sent_at is None and {d["status"] for d in failure.deliveries} == {"failed"}
    assert "ALERT for admin, operator" in caplog.text


def test_recent_alerts_lists_what_reached_a_user(service, desk, flow, clock):
    from warta.alert_log import recent_alerts

    item_id = flow.create()
    clock.now = wib("2026-11-27T09:30")
    desk.scan_steps()
    desk.check_freshness()  # not yet 3 days
    clock.advance(3 * 86400)
    desk.check_freshness()
    assert [a["kind"] for a in recent_alerts(service, "pelaksana")] == ["breach"]
    assert [a["kind"] for a in recent_alerts(service, "operator")] == ["freshness"]
    assert [a["kind"] for a in recent_alerts(service, "subkoor")] == ["escalation"]
    everything = recent_alerts(service)
    assert [a["kind"] for a in everything] == ["freshness", "escalation", "breach"]
    assert everything[-1]["item_id"] == item_id and everything[-1]["link"] == LINK.format(item_id)
    assert len(recent_alerts(service, limit=1)) == 1


def test_alert_about_an_unknown_item_is_still_recorded(service, sender, monkeypatch):
    import warta.alerts

    monkeypatch.setattr(warta.alerts, "default_sender", lambda config: sender)
    pipeline.alert_operator(service, 404, "Website: token expired")
    [failure] = alerts(service)
    assert (failure.kind, failure.item_id, failure.step_id) == ("publish_failure", None, None)
    assert "#404" in failure.message
    assert addresses(sender.sent) == ["admin@warta.localhost", "operator@warta.localhost"]


def test_monthly_report_links_are_sent_once_per_build(service):
    """Issue 5's report goes out through the same alert channels, once per build."""
    from warta.alerts import AlertDesk

    class Collect:
        def __init__(self):
            self.sent = []

        def send(self, notification):
            self.sent.append(notification)

    sender = Collect()
    desk = AlertDesk(service, sender)
    files = {"pdf": "reports/2026-10/laporan-2026-10.pdf", "xlsx": "reports/2026-10/laporan-2026-10.xlsx"}
    alert_id = desk.report_ready("2026-10", "id", files, "run-1", ("subkoor", "operator"))
    assert alert_id is not None
    assert {n.address for n in sender.sent} == {"subkoor@warta.localhost", "operator@warta.localhost"}
    assert all("/warta/api/v1/reports/2026-10/pdf" in n.text for n in sender.sent)
    assert sender.sent[0].subject == "[Warta] Laporan bulanan 2026-10"
    assert desk.report_ready("2026-10", "id", files, "run-1", ("subkoor",)) is None  # retried task
    assert desk.report_ready("2026-10", "id", files, "run-2", ("subkoor",)) is not None  # a rebuild


def test_a_component_that_keeps_dying_alerts_the_admins_once_an_hour(desk, sender, service, clock):
    first = desk.component_failure("scheduler", "repeated", 3)
    assert first is not None
    [notification] = sender.take()
    assert notification.usernames == ("admin",) and "scheduler" in notification.subject
    assert "restart sejauh ini: 3" in notification.text
    assert desk.component_failure("scheduler", "repeated", 4) is None and sender.take() == []
    assert desk.component_failure("scheduler", "fatal", 5) is not None  # another event
    clock.advance(3600)
    assert desk.component_failure("scheduler", "repeated", 9) is not None
    assert [a.kind for a in alerts(service)] == ["component_failure"] * 3


# ------------------------------------------------------------ Graph API version expiry
def test_graph_version_warns_once_per_lead_time_then_when_expired(service, desk, sender):
    from datetime import date

    in_use = {"facebook": "v21.0", "instagram": "v21.0"}
    # v21.0 ends 2027-01-21 (Meta's changelog, channels.yaml graph_api.expires).
    assert desk.check_graph_versions(in_use, today=date(2026, 10, 1))["alerts"] == 0  # 112 days: quiet
    assert desk.check_graph_versions(in_use, today=date(2026, 10, 24))["alerts"] == 1  # 89 days: 90d
    assert desk.check_graph_versions(in_use, today=date(2026, 10, 25))["alerts"] == 0  # same threshold
    assert desk.check_graph_versions(in_use, today=date(2026, 12, 23))["alerts"] == 1  # 29 days: 30d
    assert desk.check_graph_versions(in_use, today=date(2027, 1, 15))["alerts"] == 1  # 6 days: 7d
    assert desk.check_graph_versions(in_use, today=date(2027, 1, 16))["alerts"] == 0
    assert desk.check_graph_versions(in_use, today=date(2027, 1, 22))["alerts"] == 1  # expired
    assert desk.check_graph_versions(in_use, today=date(2027, 2, 1))["alerts"] == 0
    subjects = [n.subject for n in sender.sent]
    assert any("berakhir dalam 89 hari" in s for s in subjects)
    assert any("sudah berakhir" in s for s in subjects)
    operators = service.config.holders_of(service.config.service_levels.freshness_role)
    assert {u for n in sender.sent for u in n.usernames} <= set(operators)
    assert "v26.0" in sender.sent[0].text and "Facebook" in sender.sent[0].text


def test_graph_version_default_is_quiet_and_an_unknown_version_warns(service, desk, sender):
    from datetime import date

    assert service.config.graph_api.default_version == "v26.0"
    assert desk.check_graph_versions({"facebook": "v26.0"}, today=date(2026, 12, 2))["alerts"] == 0
    assert desk.check_graph_versions({"facebook": "v99.0"}, today=date(2026, 12, 2))["alerts"] == 1
    assert desk.check_graph_versions({"facebook": "v99.0"}, today=date(2026, 12, 3))["alerts"] == 0
    assert "tidak dikenal" in sender.sent[-1].subject
