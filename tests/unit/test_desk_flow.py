"""Whose turn it is (issue 15, requirements 1 and 2): hand-off and rejection alerts
written with the step, step claims, per-user alert reads, and failed publications with
their plain cause and the exactly-once "Coba lagi"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from warta import desk_flow
from warta.airflow_api import run_note
from warta.channel_routing import publish_task_of
from warta.models import Alert, AuditEvent, Publication
from warta.publish_errors import cause_of, explain
from warta.workflow import Conflict, NotFound, PermissionDenied

from tests.unit.conftest import ADMIN, OPERATOR, PELAKSANA, PELAKSANA2, SUBKOOR


def _alerts(service, kind=None) -> list[Alert]:
    with service.sessions() as session:
        query = select(Alert).order_by(Alert.id)
        if kind:
            query = query.where(Alert.kind == kind)
        return list(session.scalars(query))


# ------------------------------------------------------------------ hand-off alerts
def test_every_hand_off_alerts_the_next_role_once(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    [to_writer] = _alerts(service, "handoff")
    assert to_writer.step_id == "menyusun" and to_writer.round == 1
    # pelaksana recorded it and is told nothing; the rest of the role is (admin holds it too).
    assert to_writer.recipients == [ADMIN, PELAKSANA2]
    assert "Menunggu Anda" in to_writer.subject and to_writer.sent_at is None
    assert [d["address"] for d in to_writer.deliveries] == ["admin@warta.localhost", "pelaksana2@warta.localhost"]
    flow.write(item_id)
    flow.correct(item_id)
    kinds = [(a.kind, a.step_id, tuple(a.recipients)) for a in _alerts(service)]
    assert kinds == [("handoff", "menyusun", (ADMIN, PELAKSANA2)),
                     ("handoff", "memeriksa", (ADMIN, OPERATOR)),
                     ("handoff", "menyetujui", (ADMIN, SUBKOOR))]
    flow.approve(item_id)  # publishing is automatic: nobody is asked
    assert len(_alerts(service)) == 3


def test_a_rejection_goes_to_the_author_with_the_reason(service, flow):
    item_id = flow.to_decision()
    flow.reject(item_id, reason="Tambahkan kutipan narasumber dan jabatannya")
    [rejection] = _alerts(service, "rejection")
    assert rejection.recipients == [PELAKSANA]
    assert rejection.round == 2 and rejection.step_id == "menyusun"
    assert "Tambahkan kutipan narasumber dan jabatannya" in rejection.message
    assert "Revisi ke-2" in rejection.message
    # The rejection is not also a hand-off to the whole role.
    assert [a.step_id for a in _alerts(service, "handoff")] == ["menyusun", "memeriksa", "menyetujui"]


def test_a_step_that_fails_writes_no_alert(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    with pytest.raises(Exception):
        service.record_step(item_id, "menyusun", PELAKSANA, title="Judul", body="")
    assert len(_alerts(service)) == 1


def test_the_delivery_hook_gets_the_new_alerts_after_the_commit(service, flow):
    seen = []
    service.alert_delivery = lambda svc, ids: seen.append((ids, [a.id for a in _alerts(svc)]))
    item_id = flow.create()
    flow.cover(item_id)
    [(ids, committed)] = seen
    assert ids == committed and len(ids) == 1


def test_the_service_level_scan_delivers_a_hand_off_alert_left_undelivered(service, flow):
    from warta.alerts import AlertDesk
    from tests.unit.test_alerts import RecordingSender

    flow.cover(flow.create())
    sender = RecordingSender()
    assert AlertDesk(service, sender).deliver_pending() == 1
    assert sorted(n.address for n in sender.sent) == ["admin@warta.localhost", "pelaksana2@warta.localhost"]
    assert AlertDesk(service, sender).deliver_pending() == 0


# ------------------------------------------------------------------ claims
def test_claim_release_and_conflict(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    claim = desk_flow.claim_step(service, item_id, "menyusun", PELAKSANA2)
    assert claim["username"] == PELAKSANA2 and claim["full_name"] == "Pelaksana Kegiatan 2 (dev)"
    assert desk_flow.claim_step(service, item_id, "menyusun", PELAKSANA2)["username"] == PELAKSANA2
    with pytest.raises(Conflict) as taken:
        desk_flow.claim_step(service, item_id, "menyusun", PELAKSANA)
    assert taken.value.status == 409 and "Pelaksana Kegiatan 2" in str(taken.value)
    with pytest.raises(Conflict):
        desk_flow.release_step(service, item_id, "menyusun", PELAKSANA)
    assert desk_flow.release_step(service, item_id, "menyusun", PELAKSANA2)["released"] is True
    assert desk_flow.current_claim(service, item_id) is None
    assert desk_flow.claim_step(service, item_id, "menyusun", PELAKSANA)["username"] == PELAKSANA
    with service.sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.item_id == item_id))]
    assert actions.count("step_claimed") == 2 and actions.count("step_released") == 1


def test_claims_need_the_role_and_the_waiting_step(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    with pytest.raises(PermissionDenied):
        desk_flow.claim_step(service, item_id, "menyusun", OPERATOR)
    with pytest.raises(Conflict):
        desk_flow.claim_step(service, item_id, "memeriksa", OPERATOR)
    with pytest.raises(NotFound):
        desk_flow.claim_step(service, item_id, "tidak-ada", OPERATOR)
    with pytest.raises(NotFound):
        desk_flow.claim_step(service, 999, "menyusun", PELAKSANA)


def test_recording_the_step_ends_its_claim(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    desk_flow.claim_step(service, item_id, "menyusun", PELAKSANA2)
    flow.write(item_id, actor=PELAKSANA2)
    assert desk_flow.current_claim(service, item_id) is None


def test_my_tasks_apart_from_the_team_and_a_returned_item_first(service, flow, clock):
    older = flow.create("Lama")
    flow.cover(older)
    clock.advance(60)
    claimed = flow.create("Diambil")
    flow.cover(claimed)
    desk_flow.claim_step(service, claimed, "menyusun", PELAKSANA2)
    clock.advance(60)
    returned = flow.to_decision(flow.create("Dikembalikan"))  # written by pelaksana
    flow.reject(returned, reason="Lengkapi data narasumber")

    for_writer = desk_flow.split_inbox(service, service.waiting_for(username=PELAKSANA), PELAKSANA)
    assert [r["id"] for r in for_writer["mine"]] == [returned]
    assert for_writer["mine"][0]["returned"] and for_writer["mine"][0]["rejection_reason"] == "Lengkapi data narasumber"
    assert [r["id"] for r in for_writer["team"]] == [older, claimed]
    assert for_writer["team"][1]["claimed_by"] == PELAKSANA2

    for_colleague = desk_flow.split_inbox(service, service.waiting_for(username=PELAKSANA2), PELAKSANA2)
    assert [r["id"] for r in for_colleague["mine"]] == [claimed]
    # Not theirs, but still marked and first in the team's queue.
    assert [r["id"] for r in for_colleague["team"]] == [returned, older]
    assert for_colleague["team"][0]["returned"]


# ------------------------------------------------------------------ alert reads
def test_reads_are_per_user(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    flow.write(item_id)  # -> operator, admin
    assert desk_flow.unread_count(service, PELAKSANA2) == 1
    assert desk_flow.unread_count(service, ADMIN) == 2
    assert desk_flow.unread_count(service, PELAKSANA) == 0
    listed = desk_flow.user_alerts(service, ADMIN)
    assert listed["total"] == 2 and listed["unread"] == 2 and not any(a["read"] for a in listed["alerts"])
    newest = listed["alerts"][0]
    assert newest["item_title"] == "Bimtek budidaya cabai" and newest["kind"] == "handoff"
    assert desk_flow.mark_read(service, ADMIN, [newest["id"]]) == {"marked": 1, "unread": 1}
    assert desk_flow.mark_read(service, ADMIN, [newest["id"]]) == {"marked": 0, "unread": 1}
    assert desk_flow.unread_count(service, PELAKSANA2) == 1  # admin's read is admin's
    with pytest.raises(NotFound):
        desk_flow.mark_read(service, PELAKSANA, [newest["id"]])
    assert desk_flow.mark_read(service, ADMIN) == {"marked": 1, "unread": 0}
    assert [a["id"] for a in desk_flow.user_alerts(service, ADMIN, unread_only=True)["alerts"]] == []


def test_a_name_inside_another_does_not_match(service, flow):
    # "pelaksana" must not see pelaksana2's alerts.
    flow.cover(flow.create(actor=PELAKSANA2), actor=PELAKSANA2)
    assert desk_flow.unread_count(service, PELAKSANA) == 1
    assert desk_flow.unread_count(service, PELAKSANA2) == 0


# ------------------------------------------------------------------ failed publications
@pytest.mark.parametrize("error, cause", [
    ("Website: wordpress: creating the post: HTTP 401: invalid token; fix Airflow Connection 'warta_website'", "auth"),
    ("Facebook: facebook: posting: HTTP 400: (#190) Error validating access token: Session has expired", "auth"),
    ("X: x: posting: HTTP 429: Too Many Requests", "rate_limit"),
    ("Website: wordpress: creating the post: no answer from http://w within 30s", "timeout"),
    ("Website: wordpress: could not reach http://w: Connection refused", "timeout"),
    ("Instagram: instagram: container: HTTP 400: The caption is too long", "validation"),
    ("Website: wordpress: creating the post: HTTP 502: Bad Gateway", "server"),
    ("something odd", "other"),
])
def test_causes_in_plain_words(error, cause):
    assert cause_of(error) == cause
    assert explain(error)["text"] and explain(error, "en")["text"] != explain(error)["text"]


def _failed(service, flow, channels=("website", "facebook", "x")) -> int:
    item_id = flow.create(channels=list(channels))
    flow.to_publish(item_id)
    publication = service.publication_intent(item_id, "facebook")
    service.publication_failed(publication.id, "Facebook: facebook: posting: HTTP 429: rate limited")
    return item_id


def test_open_failures_name_the_channel_and_cause(service, flow):
    item_id = _failed(service, flow)
    [failure] = desk_flow.open_failures(service)
    assert failure["item_id"] == item_id and failure["channel"] == "facebook"
    assert failure["cause"] == "rate_limit" and "Tunggu" in failure["cause_id"]
    assert desk_flow.failed_channels(service, item_id) == ["facebook"]


def test_retry_clears_the_right_task_exactly_once(service, flow):
    item_id = _failed(service, flow)
    cleared = []
    result = desk_flow.retry_publication(service, item_id, "facebook", OPERATOR,
                                         lambda *args: cleared.append(args))
    # Facebook links to the website: it is the first of the linking channels.
    assert cleared == [("warta_berita", f"item-{item_id}-round-1", "updating_bertautan", 0)]
    assert result["retrying"] is True
    with pytest.raises(Conflict):
        desk_flow.retry_publication(service, item_id, "facebook", OPERATOR, lambda *args: cleared.append(args))
    assert len(cleared) == 1
    assert desk_flow.open_failures(service) == []
    with service.sessions() as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "publish_retry")).all()
    assert event.actor == OPERATOR and event.details["channel"] == "facebook"


def test_a_retry_airflow_refuses_leaves_the_failure_open(service, flow):
    item_id = _failed(service, flow)

    def refuse(*args):
        raise RuntimeError("Airflow answered HTTP 409")

    with pytest.raises(RuntimeError):
        desk_flow.retry_publication(service, item_id, "facebook", OPERATOR, refuse)
    assert [f["channel"] for f in desk_flow.open_failures(service)] == ["facebook"]


def test_only_the_operator_retries(service, flow):
    item_id = _failed(service, flow)
    with pytest.raises(PermissionDenied):
        desk_flow.retry_publication(service, item_id, "facebook", PELAKSANA, lambda *a: None)
    with pytest.raises(NotFound):
        desk_flow.retry_publication(service, item_id, "instagram", OPERATOR, lambda *a: None)


def test_publish_task_of_follows_the_dag(config):
    channels = ["website", "facebook", "instagram", "x"]
    assert publish_task_of(config, channels, "website") == ("updating", 0)
    assert publish_task_of(config, channels, "instagram") == ("updating_bertautan", 1)
    # Without the website, social channels publish at once.
    assert publish_task_of(config, ["x", "facebook"], "facebook") == ("updating", 1)


def test_run_notes_name_the_round():
    assert run_note("Bimtek cabai", 1) == "Berita baru: Bimtek cabai"
    assert run_note("Bimtek cabai", 3) == "Revisi ke-3: Bimtek cabai"


def test_mapped_tasks_are_labelled_by_channel_whatever_their_arguments(config):
    from types import SimpleNamespace

    from warta.airflow.dag_factory import channel_labeller

    label = channel_labeller(config)
    assert label(SimpleNamespace(op_args=["website", 1, 1], op_kwargs={})) == "Website"
    assert label(SimpleNamespace(op_args=[], op_kwargs={"channel": "x"})) == config.channels["x"].name_id
    assert label(SimpleNamespace(op_args=[{"channel": "instagram", "links": {}}, 1, 1], op_kwargs={})) == "Instagram"
    assert label(SimpleNamespace()) == "" and label(None) == ""
