"""EditorialService on a real (SQLite) editorial DB, with a fake clock."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.fakes.graph import image_bytes
from tests.unit.conftest import PELAKSANA
from warta.models import Asset, AuditEvent, Manuscript, NewsItem, Publication, StepRecord, StepTiming
from warta.service import PIPELINE_ACTOR, EditorialService, Upload
from warta.workflow import Conflict, InvalidInput, NotFound, PermissionDenied

JPEG = image_bytes(8, 6)


def count(service: EditorialService, model) -> int:
    with service.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def files_under(root) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def timing_of(history: dict, step_id: str, round_number: int = 1) -> dict:
    return next(t for t in history["timings"] if t["step"] == step_id and t["round"] == round_number)


# ======================================================================== create_item
def test_create_item_starts_step_one(service, clock):
    item = service.create_item(
        "pelaksana", title="  Bimtek budidaya cabai  ", activity_date="2026-11-25", place="Pangkalpinang",
        service="bimtek", notes="Peserta 30 orang",
    )
    assert item["id"] == 1
    assert item["duplicate"] is False
    assert item["title"] == "Bimtek budidaya cabai"
    assert item["activity_date"] == "2026-11-25"
    assert item["current_step"] == "meliput"
    assert item["current_step_name"] == "Meliput kegiatan"
    assert item["waiting_for_role"] == "pelaksana_kegiatan"
    assert item["status"] == "in_progress"
    assert item["round"] == 1
    assert item["channels"] == ["website"]
    assert item["run_id"] == "item-1-round-1"
    assert item["dag_id"] == "warta_berita"
    assert item["created_at"] == clock.now.isoformat()
    assert service.get_item(1) == {k: v for k, v in item.items() if k != "duplicate"}
    history = service.history(1)
    assert [e["action"] for e in history["audit"]] == ["item_created"]
    assert history["timings"] == [{
        "step": "meliput", "round": 1, "started_at": clock.now.isoformat(), "ended_at": None,
        "duration_seconds": None, "standard_seconds": 86400, "within_standard": None,
    }]


def test_create_item_accepts_a_date_object_and_no_date(service):
    assert service.create_item("pelaksana", title="A", activity_date=date(2026, 1, 2))["activity_date"] == "2026-01-02"
    assert service.create_item("pelaksana", title="B", activity_date="")["activity_date"] is None
    assert service.create_item("pelaksana", title="C")["activity_date"] is None


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "place": "p" * 301}, "place"),
        ({"title": "ok", "notes": "n" * 10001}, "notes"),
        ({"title": "ok", "activity_date": "kemarin"}, "activity_date"),
        ({"title": "ok", "activity_date": "26-11-2026"}, "activity_date"),
        ({"title": "ok", "service": "gosip"}, "service"),
        ({"title": "ok", "channels": ["website", "tiktok"]}, "channels"),
    ],
)
def test_create_item_validation(service, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        service.create_item("pelaksana", **kwargs)
    assert caught.value.field == field
    assert count(service, NewsItem) == 0
    assert count(service, AuditEvent) == 0


def test_title_at_the_limit_is_accepted(service):
    assert len(service.create_item("pelaksana", title="x" * 200)["title"]) == 200


@pytest.mark.parametrize("actor", ["operator", "subkoor", "nobody"])
def test_create_item_needs_the_first_steps_role(service, actor):
    with pytest.raises(PermissionDenied):
        service.create_item(actor, title="Liputan")
    assert count(service, NewsItem) == 0


def test_admin_may_create(service):
    assert service.create_item("admin", title="Liputan")["created_by"] == "admin"


def test_duplicate_submission_returns_the_same_item(service, storage_root):
    first = service.create_item(
        "pelaksana", title="Kunjungan", submission_key="form-123", uploads=[Upload("a.jpg", JPEG)]
    )
    counts = {m: count(service, m) for m in (NewsItem, AuditEvent, StepTiming, Asset)}
    files = files_under(storage_root)
    again = service.create_item(
        "pelaksana", title="Kunjungan", submission_key="form-123", uploads=[Upload("b.jpg", JPEG + b"x")]
    )
    assert again["id"] == first["id"]
    assert again["duplicate"] is True
    assert {m: count(service, m) for m in counts} == counts
    assert files_under(storage_root) == files
    # A different key is a different item.
    assert service.create_item("pelaksana", title="Kunjungan", submission_key="form-124")["id"] != first["id"]


def test_the_item_and_the_request_to_start_its_run_are_one_transaction(service):
    from warta.models import RunRequest

    item = service.create_item("pelaksana", title="Liputan")
    with service.sessions() as session:
        [request] = session.scalars(select(RunRequest)).all()
    assert (request.item_id, request.round, request.run_id, request.note) == (
        item["id"], 1, f"item-{item['id']}-round-1", "Liputan")
    assert request.started_at is None and item["run_state"] == "queued"
    service.run_request_started(request.id)
    assert service.get_item(item["id"])["run_state"] == "started"


def test_a_failing_outbox_write_saves_nothing(service, storage_root, monkeypatch):
    def broken(session, item, round_number):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_request_run", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        service.create_item(
            "pelaksana", title="Liputan", submission_key="k1",
            uploads=[Upload("foto.jpg", JPEG), Upload("rekaman.mp3", b"ID3audio")],
        )
    for model in (NewsItem, AuditEvent, StepTiming, Asset):
        assert count(service, model) == 0, model
    assert files_under(storage_root) == []
    monkeypatch.undo()
    # The same submission can be sent again and now succeeds.
    item = service.create_item("pelaksana", title="Liputan", submission_key="k1", uploads=[Upload("foto.jpg", JPEG)])
    assert item["duplicate"] is False
    assert len(files_under(storage_root)) == 1


def test_the_same_submission_racing_itself_returns_the_first_item(service, monkeypatch):
    """The retried request arrives while the first is still in its transaction: the
    loser's insert hits the unique key and answers with the winner's item."""
    first = service.create_item("pelaksana", title="Liputan", submission_key="race")
    calls = []
    original = service._submitted

    def not_seen_first_time(session, key):
        calls.append(key)
        return None if len(calls) == 1 else original(session, key)

    monkeypatch.setattr(service, "_submitted", not_seen_first_time)
    again = service.create_item("pelaksana", title="Liputan", submission_key="race")
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert count(service, NewsItem) == 1


def test_request_run_is_idempotent(service):
    from warta.models import RunRequest

    item = service.create_item("pelaksana", title="Liputan")
    assert service.request_run(item["id"], 2)["queued"] is True
    assert service.request_run(item["id"], 2)["queued"] is False
    assert service.request_run(item["id"], 1)["queued"] is False
    with service.sessions() as session:
        assert sorted(r.round for r in session.scalars(select(RunRequest))) == [1, 2]


# ======================================================================== human steps
def test_happy_path(service, flow, clock):
    item_id = flow.create()
    result = flow.cover(item_id, uploads=[Upload("foto.jpg", JPEG, caption="Peserta bimtek")])
    assert result["recorded"] == {"step": "meliput", "round": 1, "decision": "done"}
    assert result["next"] == {"step": "menyusun", "round": 1}

    result = flow.write(item_id, body="Naskah pertama.")
    assert result["current_step"] == "memeriksa"
    assert result["waiting_for_role"] == "operator"

    result = flow.correct(item_id, body="Naskah pertama (dikoreksi).")
    assert result["current_step"] == "menyetujui"
    assert result["waiting_for_role"] == "subkoordinator"

    result = flow.approve(item_id)
    assert result["recorded"] == {"step": "menyetujui", "round": 1, "decision": "approved"}
    assert result["current_step"] == "updating"
    assert result["status"] == "publishing"
    assert result["waiting_for_role"] is None

    history = service.history(item_id)
    assert [(m["version"], m["kind"], m["author"], m["body"]) for m in history["manuscripts"]] == [
        (1, "naskah", "pelaksana", "Naskah pertama."),
        (2, "koreksi", "operator", "Naskah pertama (dikoreksi)."),
    ]
    assert [(r["step"], r["actor"], r["role"], r["decision"]) for r in history["records"]] == [
        ("meliput", "pelaksana", "pelaksana_kegiatan", "done"),
        ("menyusun", "pelaksana", "pelaksana_kegiatan", "done"),
        ("memeriksa", "operator", "operator", "done"),
        ("menyetujui", "subkoor", "subkoordinator", "approved"),
    ]
    assert history["records"][0]["reason"] == "Catatan liputan"
    assert [(a["kind"], a["filename"], a["caption"]) for a in history["assets"]] == [
        ("photo", "foto.jpg", "Peserta bimtek")
    ]
    assert [e["action"] for e in history["audit"]] == [
        "item_created", "step_meliput", "step_menyusun", "step_memeriksa", "step_menyetujui",
    ]
    assert history["audit"][-1]["details"] == {"round": 1, "decision": "approved", "reason": "", "version": 2}
    assert service.approved_manuscript(item_id).version == 2
    assert service.decision(item_id, 1) == "approved"
    assert service.is_recorded(item_id, 1, "menyetujui")
    assert not service.is_recorded(item_id, 1, "updating")


def test_correction_without_body_keeps_the_manuscript(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    flow.write(item_id, body="Tidak perlu koreksi.", title="Judul asli")
    flow.correct(item_id, body=None)
    latest = service.history(item_id)["manuscripts"][-1]
    assert (latest["version"], latest["kind"], latest["title"], latest["body"]) == (
        2, "koreksi", "Judul asli", "Tidak perlu koreksi.",
    )


@pytest.mark.parametrize("body, field", [("", "body"), ("   ", "body"), ("x" * 50001, "body")])
def test_manuscript_validation(service, flow, body, field):
    item_id = flow.create()
    flow.cover(item_id)
    with pytest.raises(InvalidInput) as caught:
        flow.write(item_id, body=body)
    assert caught.value.field == field
    assert service.get_item(item_id)["current_step"] == "menyusun"
    assert count(service, Manuscript) == 0


@pytest.mark.parametrize("author_step", ["menyusun", "memeriksa"])
def test_approver_who_wrote_or_corrected_may_not_decide(service, flow, author_step):
    item_id = flow.create()
    flow.cover(item_id)
    flow.write(item_id, actor="admin" if author_step == "menyusun" else "pelaksana")
    flow.correct(item_id, actor="admin" if author_step == "memeriksa" else "operator")
    for decision in ("approve", "reject"):
        with pytest.raises(PermissionDenied, match="wrote or corrected"):
            service.record_step(item_id, "menyetujui", "admin", decision=decision, reason="Kurang lengkap")
    assert service.get_item(item_id)["current_step"] == "menyetujui"
    assert flow.approve(item_id, actor="subkoor")["current_step"] == "updating"


def test_wrong_role_and_unknown_item(service, flow):
    item_id = flow.create()
    with pytest.raises(PermissionDenied):
        service.record_step(item_id, "meliput", "operator")
    with pytest.raises(NotFound):
        service.record_step(999, "meliput", "pelaksana")
    with pytest.raises(NotFound):
        service.record_step(item_id, "publikasi", "admin")
    with pytest.raises(NotFound):
        service.get_item(999)
    with pytest.raises(NotFound):
        service.history(999)
    with pytest.raises(Conflict, match="done by the pipeline"):
        service.record_step(item_id, "updating", "operator")


def test_a_step_cannot_be_completed_twice(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    with pytest.raises(Conflict, match="already completed"):
        flow.cover(item_id)
    flow.write(item_id)
    with pytest.raises(Conflict, match="already completed"):
        flow.write(item_id)
    flow.correct(item_id)
    flow.approve(item_id)
    with pytest.raises(Conflict):
        flow.approve(item_id)
    with pytest.raises(Conflict):
        flow.reject(item_id)
    assert count(service, StepRecord) == 4
    assert count(service, Manuscript) == 2


def test_steps_out_of_order_are_refused(service, flow):
    item_id = flow.create()
    with pytest.raises(Conflict, match="waits at step 1"):
        flow.write(item_id)
    with pytest.raises(Conflict, match="waits at step 1"):
        flow.correct(item_id)
    with pytest.raises(Conflict):
        flow.approve(item_id)
    assert count(service, StepRecord) == 0


def test_rejection_needs_a_reason(service, flow):
    item_id = flow.to_decision()
    with pytest.raises(InvalidInput) as caught:
        flow.reject(item_id, reason="no")
    assert caught.value.field == "reason"
    with pytest.raises(InvalidInput) as caught:
        service.record_step(item_id, "menyetujui", "subkoor", decision="mungkin")
    assert caught.value.field == "decision"
    assert service.get_item(item_id)["current_step"] == "menyetujui"
    assert service.decision(item_id, 1) is None


def test_reject_revise_approve_keeps_every_round(service, flow, clock):
    item_id = flow.to_decision()
    result = flow.reject(item_id, reason="Tambahkan kutipan narasumber")
    assert result["recorded"] == {"step": "menyetujui", "round": 1, "decision": "rejected"}
    assert result["next"] == {"step": "menyusun", "round": 2}
    assert result["status"] == "revision"
    assert result["run_id"] == "item-1-round-2"
    assert service.decision(item_id, 1) == "rejected"
    assert service.decision(item_id, 2) is None
    with pytest.raises(Conflict, match="already completed"):
        flow.cover(item_id)  # coverage is once per item

    flow.write(item_id, actor="pelaksana2", body="Naskah revisi dengan kutipan.")
    flow.correct(item_id, body="Naskah revisi (dikoreksi).")
    result = flow.approve(item_id)
    assert result["current_step"] == "updating"
    assert result["round"] == 2

    history = service.history(item_id)
    assert history["revision_rounds"] == 2
    assert history["rejections"] == 1
    assert [(m["version"], m["round"], m["kind"], m["author"]) for m in history["manuscripts"]] == [
        (1, 1, "naskah", "pelaksana"),
        (2, 1, "koreksi", "operator"),
        (3, 2, "naskah", "pelaksana2"),
        (4, 2, "koreksi", "operator"),
    ]
    assert [(r["step"], r["round"], r["decision"]) for r in history["records"]] == [
        ("meliput", 1, "done"),
        ("menyusun", 1, "done"),
        ("memeriksa", 1, "done"),
        ("menyetujui", 1, "rejected"),
        ("menyusun", 2, "done"),
        ("memeriksa", 2, "done"),
        ("menyetujui", 2, "approved"),
    ]
    assert history["records"][3]["reason"] == "Tambahkan kutipan narasumber"
    assert service.approved_manuscript(item_id).version == 4
    assert service.decision(item_id, 2) == "approved"
    assert [(t["step"], t["round"]) for t in history["timings"]] == [
        ("meliput", 1), ("menyusun", 1), ("memeriksa", 1), ("menyetujui", 1),
        ("menyusun", 2), ("memeriksa", 2), ("menyetujui", 2), ("updating", 2),
    ]

    flow.finish(item_id, round_number=2)
    history = service.history(item_id)
    assert history["current_step"] == "selesai"
    assert len(history["records"]) == 10
    assert count(service, StepRecord) == 10


def test_approver_may_not_decide_a_revision_of_text_they_wrote_in_an_earlier_round(service, flow):
    # Every round's versions count: admin wrote round 1, so round 2 (a revision of it) is
    # not theirs to approve either; another approver may.
    item_id = flow.create()
    flow.cover(item_id)
    flow.write(item_id, actor="admin")
    flow.correct(item_id)
    flow.reject(item_id)
    flow.write(item_id, actor="pelaksana")
    flow.correct(item_id)
    with pytest.raises(PermissionDenied, match=r"v1 \(putaran/round 1\)"):
        flow.approve(item_id, actor="admin")
    assert flow.approve(item_id, actor="subkoor")["current_step"] == "updating"


def test_checker_of_a_round_may_not_be_its_author(service, flow):
    item_id = flow.create()
    flow.cover(item_id)
    flow.write(item_id, actor="admin")
    with pytest.raises(PermissionDenied, match="may not check it"):
        flow.correct(item_id, actor="admin")
    assert flow.correct(item_id, actor="operator")["current_step"] == "menyetujui"


def test_separation_of_duties_can_be_switched_off_in_config(make_service, config, flow):
    from dataclasses import replace

    from warta.config import SeparationOfDuties

    relaxed = make_service(replace(config, duties=SeparationOfDuties(checker_not_author=False,
                                                                     decider_not_author=False)))
    relaxed_flow = type(flow)(relaxed, flow.clock)
    item_id = relaxed_flow.create()
    relaxed_flow.cover(item_id)
    relaxed_flow.write(item_id, actor="admin")
    relaxed_flow.correct(item_id, actor="admin")
    assert relaxed_flow.approve(item_id, actor="admin")["current_step"] == "updating"


def test_rejection_reason_has_a_length_limit_from_config(service, flow):
    item_id = flow.to_decision()
    too_long = "x" * (service.config.limits.reason_max_chars + 1)
    with pytest.raises(InvalidInput, match="longer than") as caught:
        flow.reject(item_id, reason=too_long)
    assert caught.value.field == "reason"
    assert service.get_item(item_id)["current_step"] == "menyetujui"


# ============================================================================ timings
def test_timings_against_the_standard_time(service, flow, clock):
    t0 = clock.now
    item_id = flow.create()
    clock.advance(3 * 3600)
    flow.cover(item_id)  # 3 h of 1 day
    clock.advance(2 * 3600)
    flow.write(item_id)  # 2 h of 1 h: late
    clock.advance(30 * 60)
    flow.correct(item_id)  # 30 min of 1 h
    clock.advance(3600)
    flow.approve(item_id)  # exactly 1 h: still within

    history = service.history(item_id)
    expected = [
        ("meliput", 0, 3 * 3600, 86400, True),
        ("menyusun", 3 * 3600, 5 * 3600, 3600, False),
        ("memeriksa", 5 * 3600, 5.5 * 3600, 3600, True),
        ("menyetujui", 5.5 * 3600, 6.5 * 3600, 3600, True),
    ]
    for step_id, start, end, standard, within in expected:
        timing = timing_of(history, step_id)
        assert timing["started_at"] == (t0 + timedelta(seconds=start)).isoformat(), step_id
        assert timing["ended_at"] == (t0 + timedelta(seconds=end)).isoformat(), step_id
        assert timing["duration_seconds"] == end - start, step_id
        assert timing["standard_seconds"] == standard, step_id
        assert timing["within_standard"] is within, step_id
    updating = timing_of(history, "updating")
    assert updating["started_at"] == (t0 + timedelta(hours=6.5)).isoformat()
    assert updating["ended_at"] is None
    assert updating["standard_seconds"] == 600


def test_timestamps_are_aware_utc(service, flow):
    item_id = flow.create()
    with service.sessions() as session:
        item = session.get(NewsItem, item_id)
        timing = session.scalars(select(StepTiming)).one()
        assert item.created_at.utcoffset() == timedelta(0)
        assert timing.started_at.utcoffset() == timedelta(0)


# ======================================================================== waiting_for
def test_waiting_for_role_oldest_first(service, flow, clock):
    t0 = clock.now
    first = flow.create(title="Pertama")
    clock.advance(600)
    second = flow.create(title="Kedua")
    clock.advance(600)
    third = flow.create(title="Ketiga")
    clock.advance(600)
    flow.cover(first)  # first now waits at menyusun (started at t0 + 30 min)

    waiting = service.waiting_for(role="pelaksana_kegiatan")
    assert [(w["id"], w["current_step"]) for w in waiting] == [
        (second, "meliput"), (third, "meliput"), (first, "menyusun"),
    ]
    assert waiting[0]["waiting_since"] == (t0 + timedelta(minutes=10)).isoformat()
    assert waiting[0]["due_at"] == (t0 + timedelta(minutes=10, days=1)).isoformat()
    assert waiting[0]["seconds_left"] == 86400 - 1200
    assert waiting[0]["overdue"] is False
    assert waiting[0]["step_role"] == "pelaksana_kegiatan"
    assert waiting[2]["seconds_left"] == 3600

    clock.advance(2 * 3600)
    waiting = {w["id"]: w for w in service.waiting_for(role="pelaksana_kegiatan")}
    assert waiting[first]["overdue"] is True
    assert waiting[first]["seconds_left"] == -3600
    assert waiting[second]["overdue"] is False
    assert service.waiting_for(role="operator") == []
    assert [w["id"] for w in service.waiting_for(role="pelaksana_kegiatan", limit=1)] == [second]


def test_waiting_for_username_uses_the_users_roles(service, flow):
    at_meliput = flow.create()
    at_memeriksa = flow.create()
    flow.cover(at_memeriksa)
    flow.write(at_memeriksa)
    at_menyetujui = flow.to_decision()
    published = flow.to_publish()
    done = flow.to_publish()
    flow.finish(done)

    ids = lambda **kw: [w["id"] for w in service.waiting_for(**kw)]  # noqa: E731
    assert ids(username="pelaksana") == [at_meliput]
    assert ids(username="pelaksana2") == [at_meliput]
    assert ids(username="operator") == [at_memeriksa]
    assert ids(username="subkoor") == [at_menyetujui]
    assert sorted(ids(username="admin")) == [at_meliput, at_memeriksa, at_menyetujui]
    assert ids(username="nobody") == []
    assert published not in ids(username="admin")
    with pytest.raises(InvalidInput) as caught:
        service.waiting_for(role="editor")
    assert caught.value.field == "role"


def test_waiting_for_after_rejection_shows_the_new_round(service, flow):
    item_id = flow.to_decision()
    flow.reject(item_id)
    waiting = service.waiting_for(username="pelaksana")
    assert [(w["id"], w["current_step"], w["round"], w["status"]) for w in waiting] == [
        (item_id, "menyusun", 2, "revision")
    ]


# ==================================================================== automatic steps
def test_automatic_steps_are_idempotent_and_finish_the_item(service, flow, clock):
    item_id = flow.to_publish()
    approved_at = clock.now
    clock.advance(60)
    # The step's clock started when the item reached it (the approval), not when its task began.
    assert timing_of(service.history(item_id), "updating")["started_at"] == approved_at.isoformat()

    with pytest.raises(Conflict, match="waits at updating"):
        service.complete_automatic_step(item_id, 1, "pengecekan")
    with pytest.raises(Conflict):
        service.complete_automatic_step(item_id, 2, "updating")

    clock.advance(240)
    service.complete_automatic_step(item_id, 1, "updating", post="42")
    service.complete_automatic_step(item_id, 1, "updating", post="42")  # retried: no-op
    item = service.get_item(item_id)
    assert (item["current_step"], item["status"]) == ("pengecekan", "publishing")
    updating = timing_of(service.history(item_id), "updating")
    assert (updating["duration_seconds"], updating["within_standard"]) == (300, True)

    clock.advance(60)
    service.complete_automatic_step(item_id, 1, "pengecekan")
    clock.advance(60)
    service.complete_automatic_step(item_id, 1, "mendokumentasi", archive_key="archive/items/1")
    service.complete_automatic_step(item_id, 1, "mendokumentasi", archive_key="archive/items/other")

    history = service.history(item_id)
    assert history["current_step"] == "selesai"
    assert history["current_step_name"] == "Selesai"
    assert history["status"] == "done"
    assert history["waiting_for_role"] is None
    assert history["archive_key"] == "archive/items/1"
    with service.sessions() as session:
        assert session.get(NewsItem, item_id).archived_at == clock.now
    automatic = [r for r in history["records"] if r["step"] in ("updating", "pengecekan", "mendokumentasi")]
    assert [(r["step"], r["actor"], r["role"]) for r in automatic] == [
        ("updating", PIPELINE_ACTOR, "operator"),
        ("pengecekan", PIPELINE_ACTOR, "operator"),
        ("mendokumentasi", PIPELINE_ACTOR, "operator"),
    ]
    actions = [e["action"] for e in history["audit"]]
    assert actions[-3:] == ["step_updating", "step_pengecekan", "step_mendokumentasi"]
    assert history["audit"][-3]["details"] == {"round": 1, "post": "42"}
    assert count(service, StepTiming) == 7
    assert service.waiting_for(username="admin") == []
    with pytest.raises(Conflict):
        service.record_step(item_id, "menyusun", "pelaksana", body="x")


def test_automatic_step_on_unknown_item(service):
    with pytest.raises(NotFound):
        service.complete_automatic_step(999, 1, "updating")


def test_no_approved_manuscript_yet(service, flow):
    item_id = flow.to_decision()
    with pytest.raises(Conflict, match="no approved manuscript"):
        service.approved_manuscript(item_id)


# ======================================================================= publications
def test_publication_intent_is_one_row_per_channel(service, flow):
    item_id = flow.to_publish()
    first = service.publication_intent(item_id, "website")
    assert first.status == "pending"
    assert first.attempts == 1
    assert first.marker.startswith(f"warta-{item_id}-website-")
    second = service.publication_intent(item_id, "website")
    assert (second.id, second.marker, second.attempts) == (first.id, first.marker, 2)
    assert count(service, Publication) == 1
    actions = [e["action"] for e in service.history(item_id)["audit"]]
    assert actions.count("publication_intent") == 1


def test_publication_done_failed_and_check(service, flow, clock):
    item_id = flow.to_publish()
    publication = service.publication_intent(item_id, "website")
    service.publication_failed(publication.id, "HTTP 502")
    assert service.publications(item_id)[0].status == "failed"

    done = service.publication_done(publication.id, remote_id=123, url="https://example.test/?p=123",
                                    details={"category": 7})
    assert (done.status, done.remote_id, done.error, done.published_at) == ("published", "123", "", clock.now)
    # A late failure report never un-publishes.
    service.publication_failed(publication.id, "timeout on retry")
    stored = service.publications(item_id)[0]
    assert stored.status == "published"
    assert stored.error == "timeout on retry"
    check = service.record_check(stored, ok=True, http_status=200, evidence={"title_found": True})
    assert check.id is not None
    history = service.history(item_id)
    assert history["publications"][0]["url"] == "https://example.test/?p=123"
    assert history["checks"] == [{"channel": "website", "ok": True, "http_status": 200,
                                  "evidence": {"title_found": True}, "checked_at": clock.now.isoformat()}]
    assert service.item_channels(item_id) == ["website"]


# ============================================================================ uploads
@pytest.mark.parametrize(
    "filename, kind, content_type",
    [
        ("klip.mp4", "video", "video/mp4"),
        ("suara.mp3", "audio", "audio/mpeg"),
        ("undangan.pdf", "document", "application/pdf"),
    ],
)
def test_allowed_upload_types(service, flow, storage, filename, kind, content_type):
    item_id = flow.create(uploads=[Upload(filename, b"data-" + filename.encode())])
    asset = service.assets(item_id)[0]
    assert (asset.kind, asset.content_type, asset.filename) == (kind, content_type, filename)
    assert asset.size == len(b"data-" + filename.encode())
    assert storage.get_bytes(asset.storage_key) == b"data-" + filename.encode()


@pytest.mark.parametrize("filename", ["virus.exe", "tanpa_ekstensi", "foto.jpg.sh", "skrip.html"])
def test_refused_upload_types(service, storage_root, filename):
    with pytest.raises(InvalidInput) as caught:
        service.create_item("pelaksana", title="Liputan", uploads=[Upload(filename, b"data")])
    assert caught.value.field == "files"
    assert count(service, NewsItem) == 0
    assert files_under(storage_root) == []


def test_upload_size_limit(make_service, config, storage_root):
    small = make_service(dataclasses.replace(config, limits=dataclasses.replace(config.limits, upload_max_bytes=10)))
    assert small.create_item("pelaksana", title="Pas", uploads=[Upload("a.pdf", b"x" * 10)])["id"] == 1
    with pytest.raises(InvalidInput, match="larger than") as caught:
        small.create_item("pelaksana", title="Terlalu besar", uploads=[Upload("b.pdf", b"x" * 11)])
    assert caught.value.field == "files"
    with pytest.raises(InvalidInput, match="empty") as caught:
        small.create_item("pelaksana", title="Kosong", uploads=[Upload("c.jpg", b"")])
    assert caught.value.field == "files"
    assert count(small, NewsItem) == 1
    assert len(files_under(storage_root)) == 1


def test_a_bad_file_among_good_ones_stores_nothing(service, flow, storage_root):
    item_id = flow.create()
    with pytest.raises(InvalidInput):
        flow.cover(item_id, uploads=[Upload("foto.jpg", JPEG), Upload("virus.exe", b"MZ")])
    assert files_under(storage_root) == []
    assert service.assets(item_id) == []
    assert service.get_item(item_id)["current_step"] == "meliput"


def test_unsafe_filename_is_stored_under_the_root(service, storage_root, tmp_path):
    item_id = service.create_item(
        "pelaksana", title="Liputan", uploads=[Upload("../../etc/passwd.jpg", JPEG)]
    )["id"]
    asset = service.assets(item_id)[0]
    assert asset.storage_key.startswith(f"items/{item_id}/assets/")
    assert asset.storage_key.endswith("-passwd.jpg")
    assert ".." not in asset.storage_key
    assert files_under(storage_root) == [asset.storage_key]
    assert (storage_root / asset.storage_key).read_bytes() == JPEG
    assert not (tmp_path / "etc").exists()
    assert asset.filename == "../../etc/passwd.jpg"  # kept for display only
    assert len(asset.sha256) == 64


def test_coverage_uploads_via_record_step(service, flow, storage):
    item_id = flow.create(uploads=[Upload("a.jpg", JPEG)])
    flow.cover(item_id, uploads=[Upload("b.webm", b"video"), Upload("c.m4a", b"audio")])
    assets = service.assets(item_id)
    assert [(a.filename, a.kind, a.uploaded_by) for a in assets] == [
        ("a.jpg", "photo", "pelaksana"), ("b.webm", "video", "pelaksana"), ("c.m4a", "audio", "pelaksana"),
    ]
    assert all(storage.exists(a.storage_key) for a in assets)
    audit = service.history(item_id)["audit"]
    assert audit[1]["details"] == {"round": 1, "assets": ["b.webm", "c.m4a"]}


def test_record_step_lost_race_is_a_conflict_and_keeps_no_files(service, flow, storage_root, monkeypatch):
    """Two people record the same step at once: the DB's unique constraint decides and
    the loser gets a Conflict, with nothing of theirs left behind."""
    item_id = flow.create()

    def commit_loses_the_race(self):
        raise IntegrityError("INSERT INTO step_records ...", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(Session, "commit", commit_loses_the_race)
    with pytest.raises(Conflict, match="just recorded by someone else"):
        flow.cover(item_id, uploads=[Upload("foto.jpg", JPEG)])
    monkeypatch.undo()
    assert files_under(storage_root) == []
    assert count(service, StepRecord) == 0
    assert service.get_item(item_id)["current_step"] == "meliput"


def test_preview_shows_each_social_channel_caption_as_it_will_be_posted(service):
    """The desk's preview covers every chosen channel, made by the publishers' own adaptation."""
    from warta.channels.social import x_weighted_length

    title = "Siswa SMAN 1 belajar budidaya cabai di kebun percontohan"
    item_id = service.create_item("pelaksana", title="Kunjungan", channels=["website", "facebook", "x"])["id"]
    service.record_step(item_id, "meliput", "pelaksana")
    service.record_step(item_id, "menyusun", "pelaksana", title=title, body="Kalimat pertama. " * 40)

    previews = {p["channel"]: p for p in service.preview(item_id)["social"]}
    assert set(previews) == {"facebook", "x"}  # the website is the main preview
    for preview in previews.values():
        assert preview["text"].startswith(title)
        assert "tautan-berita-di-website" in preview["text"] + (preview["link"] or "")
    assert x_weighted_length(previews["x"]["text"]) <= 280


@pytest.mark.parametrize("filename, data, content_type", [
    ("foto.JPG", image_bytes(8, 6), "image/jpeg"),
    ("foto.png", image_bytes(8, 6, "PNG"), "image/png"),
    ("foto.webp", image_bytes(8, 6, "WEBP"), "image/webp"),
    ("foto.jpg", image_bytes(8, 6, "PNG"), "image/png"),  # the type is what the bytes are
])
def test_photos_are_stored_with_the_type_of_their_content(service, flow, filename, data, content_type):
    item_id = flow.create(uploads=[Upload(filename, data, content_type="application/octet-stream")])
    [asset] = service.assets(item_id)
    assert (asset.kind, asset.content_type, asset.filename) == ("photo", content_type, filename)


@pytest.mark.parametrize("data, problem", [
    (b"<!doctype html><p>bukan foto</p>", "not a readable photo"),
    (b"\xff\xd8\xff\xe0" + b"foto" * 10, "not a readable photo"),  # a JPEG header, then nothing
    (image_bytes(640, 480)[:2700], "not a readable photo"),  # a truncated JPEG (passes Pillow's verify())
    (image_bytes(8, 6, "GIF"), "GIF image"),
    (image_bytes(8, 6, "BMP"), "BMP image"),
])
def test_photos_channels_would_refuse_are_refused_at_intake(service, storage_root, data, problem):
    with pytest.raises(InvalidInput, match=problem) as caught:
        service.create_item("pelaksana", title="Liputan", uploads=[Upload("foto.jpg", data)])
    assert caught.value.field == "files"
    assert count(service, NewsItem) == 0 and files_under(storage_root) == []


def test_photos_with_too_many_pixels_are_refused_at_intake(make_service, config):
    small = make_service(dataclasses.replace(config, limits=dataclasses.replace(config.limits,
                                                                                 photo_max_pixels=40)))
    small.create_item("pelaksana", title="Pas", uploads=[Upload("a.jpg", image_bytes(8, 5))])
    with pytest.raises(InvalidInput, match="8x6 pixels"):
        small.create_item("pelaksana", title="Besar", uploads=[Upload("b.jpg", image_bytes(8, 6))])


def test_a_long_file_name_keeps_its_extension(service, flow):
    name = "Foto kegiatan " + "sangat panjang " * 30 + ".jpeg"
    item_id = flow.create(uploads=[Upload(name, JPEG)])
    [asset] = service.assets(item_id)
    assert len(asset.filename) == 255
    assert asset.filename.endswith(".jpeg") and asset.filename.startswith("Foto kegiatan sangat")


def test_an_over_long_caption_is_refused_not_cut(service, storage_root):
    with pytest.raises(InvalidInput, match="caption"):
        service.create_item("pelaksana", title="Liputan", uploads=[Upload("a.jpg", JPEG, caption="x" * 1001)])
    assert files_under(storage_root) == []


def test_step_verdict_and_inbox_follow_the_service_clock(service, clock):
    """The flag the report counts is set by the service from the same definition."""
    wib = lambda text: datetime.fromisoformat(text).replace(tzinfo=timezone(timedelta(hours=7)))  # noqa: E731
    clock.now = wib("2026-11-27T10:00").astimezone(timezone.utc)  # Friday
    item_id = service.create_item(PELAKSANA, title="Bimtek budidaya cabai")["id"]
    clock.now = wib("2026-11-30T09:59").astimezone(timezone.utc)  # Monday: 1 working day later
    service.record_step(item_id, "meliput", PELAKSANA, notes="Catatan liputan")
    clock.now = wib("2026-11-30T10:59").astimezone(timezone.utc)  # exactly 1 working hour: at the limit
    service.record_step(item_id, "menyusun", PELAKSANA, title="Judul", body="Naskah berita.")
    with service.sessions() as session:
        flags = dict(session.execute(select(StepTiming.step_id, StepTiming.within_standard)).all())
    assert flags == {"meliput": True, "menyusun": True, "memeriksa": None}
    # The inbox judges the open step the same way: 1 working hour from Monday 10:59.
    clock.now = wib("2026-11-30T12:01").astimezone(timezone.utc)
    (row,) = service.waiting_for(role="operator")
    assert row["overdue"] and row["breached"]
    assert row["due_at"] == row["service_due_at"]


def test_concurrent_saves_of_one_manuscript_answer_conflict_not_a_crash(service, flow, monkeypatch):
    # The race: two saves both see step 2 waiting and the same latest version; the first
    # commits, the second's version number is then taken (unique item_id, version).
    item_id = flow.create()
    flow.cover(item_id)
    flow.write(item_id)
    before = service.history(item_id)
    monkeypatch.setattr(service, "_completed_steps", lambda session, item: set())
    monkeypatch.setattr(service, "_latest_manuscript", lambda session, item_id: None)
    with service.sessions() as session:  # the item back at step 2, as the second save saw it
        item = session.get(NewsItem, item_id)
        item.current_step = "menyusun"
        session.commit()
    with pytest.raises(Conflict, match="just recorded by someone else"):
        flow.write(item_id, body="Naskah kedua")
    after = service.history(item_id)
    assert [m["version"] for m in after["manuscripts"]] == [m["version"] for m in before["manuscripts"]]


def test_a_truncated_photo_is_refused_even_where_pillow_pads_truncated_images(service, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as importing WeasyPrint does
    with pytest.raises(InvalidInput, match="not a readable photo"):
        service.create_item("pelaksana", title="Liputan", uploads=[Upload("a.jpg", image_bytes(640, 480)[:2700])])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_every_bad_field_of_an_intake_is_named_at_once_with_a_reason_the_pages_translate(service):
    with pytest.raises(InvalidInput) as caught:
        service.create_item(PELAKSANA, title="", activity_date="26/11/2026", service="nope", notes="n" * 10001,
                            channels=["myspace"], uploads=[Upload("skrip.exe", b"MZ"), Upload("kosong.jpg", b"")])
    found = [(p.field, p.reason) for p in caught.value.problems]
    assert found == [("title", "required"), ("notes", "too_long"), ("activity_date", "date"),
                     ("service", "service"), ("channels", "channels"), ("files", "file_type"),
                     ("files", "file_empty")]
    assert caught.value.field == "title"  # the API answers the first
    assert service.list_items()["total"] == 0


def test_the_intake_form_asks_for_a_date_and_a_channel_the_api_may_leave_out(service):
    with pytest.raises(InvalidInput) as caught:
        service.create_item(PELAKSANA, title="Liputan", channels=[], intake_form=True)
    assert [(p.field, p.reason) for p in caught.value.problems] == [("activity_date", "required"),
                                                                     ("channels", "channels")]
    created = service.create_item(PELAKSANA, title="Liputan", channels=[])
    assert created["activity_date"] is None and created["channels"] == list(service.config.default_channels)


# ---------------------------------------------------------------- rejection reasons (issue 15)
def test_a_rejection_reason_is_long_enough_or_a_preset_and_presets_are_checked(service, flow):
    item_id = flow.to_decision()
    with pytest.raises(InvalidInput) as short:
        flow.reject(item_id, reason="kurang")  # 6 characters: the author cannot tell what to revise
    assert short.value.field == "reason" and short.value.reason == "reason_too_short"
    assert short.value.params == {"n": service.config.limits.reason_min_chars} == {"n": 12}
    with pytest.raises(InvalidInput) as unknown:
        service.record_step(item_id, "menyetujui", "subkoor", decision="reject", reason_codes=["entah"])
    assert unknown.value.field == "reason_codes" and "kutipan" in unknown.value.message
    service.record_step(item_id, "menyetujui", "subkoor", decision="reject", reason_codes=["kutipan", "foto"],
                        reason="Guru pendamping belum dikutip.")
    rejection = [r for r in service.history(item_id)["records"] if r["decision"] == "rejected"][0]
    assert rejection["reason"] == ("Tambahkan kutipan narasumber. Ganti atau tambah foto kegiatan yang layak terbit. "
                                   "Guru pendamping belum dikutip.")


def test_a_preset_reason_alone_is_enough(service, flow):
    item_id = flow.to_decision()
    service.record_step(item_id, "menyetujui", "subkoor", decision="reject", reason_codes=["judul"])
    assert service.history(item_id)["records"][-1]["reason"] == "Perbaiki judul berita"


def test_cli_rejects_with_preset_reasons_and_refuses_a_short_one(service, flow, monkeypatch, capsys):
    from warta import cli

    item_id = flow.to_decision()
    monkeypatch.setattr(cli, "_service", lambda: service)
    assert cli.main(["record", str(item_id), "menyetujui", "--as", "subkoor", "--decision", "reject",
                     "--reason", "kurang"]) == 1
    assert "12" in capsys.readouterr().err
    assert cli.main(["--json", "record", str(item_id), "menyetujui", "--as", "subkoor", "--decision", "reject",
                     "--reason-code", "kutipan", "--reason-code", "ejaan"]) == 0
    assert service.history(item_id)["records"][-1]["reason"] == (
        "Tambahkan kutipan narasumber. Perbaiki ejaan dan tata bahasa")
