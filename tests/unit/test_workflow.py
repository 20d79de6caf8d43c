"""The SOP's rules as pure functions: no database, no Airflow."""

from __future__ import annotations

import pytest

from warta import workflow
from warta.workflow import (
    DONE,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Position,
    WorkflowError,
    check_can_record,
    check_checker_not_author,
    check_not_own_manuscript,
    next_position,
    normalize_decision,
    record_round,
)

PELAKSANA = ("pelaksana_kegiatan",)
OPERATOR = ("operator",)
SUBKOOR = ("subkoordinator",)


def test_errors_carry_http_status_and_field():
    assert (InvalidInput.status, PermissionDenied.status, NotFound.status, Conflict.status) == (422, 403, 404, 409)
    error = InvalidInput("bad", field="reason")
    assert isinstance(error, WorkflowError)
    assert (error.message, error.field, error.code) == ("bad", "reason", "invalid_input")


def test_first_position(config):
    assert workflow.first_position(config) == Position("meliput", 1)


# --------------------------------------------------------------- check_can_record
@pytest.mark.parametrize(
    "step_id, roles",
    [("meliput", PELAKSANA), ("menyusun", PELAKSANA), ("memeriksa", OPERATOR), ("menyetujui", SUBKOOR)],
)
def test_the_right_role_may_record_the_waiting_step(config, step_id, roles):
    step = check_can_record(config, Position(step_id, 1), step_id, "someone", roles, set())
    assert step.id == step_id


@pytest.mark.parametrize(
    "step_id, roles",
    [("meliput", OPERATOR), ("menyusun", SUBKOOR), ("memeriksa", PELAKSANA), ("menyetujui", OPERATOR), ("menyetujui", ())],
)
def test_wrong_role_is_permission_denied(config, step_id, roles):
    with pytest.raises(PermissionDenied) as caught:
        check_can_record(config, Position(step_id, 1), step_id, "someone", roles, set())
    assert config.roles[config.step(step_id).role].name_id in caught.value.message


def test_holder_of_all_roles_may_record_any_human_step(config):
    every = tuple(config.roles)
    for step in config.human_steps:
        assert check_can_record(config, Position(step.id, 1), step.id, "admin", every, set()) is step


def test_step_not_waiting_is_conflict(config):
    with pytest.raises(Conflict, match="not waiting; the item waits at step 2"):
        check_can_record(config, Position("menyusun", 1), "memeriksa", "operator", OPERATOR, set())


def test_already_completed_is_conflict(config):
    with pytest.raises(Conflict, match="already completed"):
        check_can_record(config, Position("menyusun", 2), "meliput", "pelaksana", PELAKSANA, {"meliput"})


def test_finished_item_is_conflict(config):
    with pytest.raises(Conflict, match="finished"):
        check_can_record(config, Position(DONE, 1), "menyusun", "pelaksana", PELAKSANA, set())


@pytest.mark.parametrize("step_id", ["updating", "pengecekan", "mendokumentasi"])
def test_automatic_step_is_conflict(config, step_id):
    with pytest.raises(Conflict, match="done by the pipeline"):
        check_can_record(config, Position(step_id, 1), step_id, "operator", OPERATOR, set())


def test_unknown_step_is_not_found(config):
    with pytest.raises(NotFound) as caught:
        check_can_record(config, Position("menyusun", 1), "terbitkan", "admin", tuple(config.roles), set())
    assert caught.value.field == "step"


def test_role_is_checked_before_position(config):
    # A person without the role learns that first, whatever the item's position.
    with pytest.raises(PermissionDenied):
        check_can_record(config, Position("meliput", 1), "menyetujui", "pelaksana", PELAKSANA, set())


# ------------------------------------------------------------ check_not_own_manuscript
def test_not_own_manuscript_names_the_versions_in_both_languages():
    check_not_own_manuscript("subkoor", {"pelaksana": [(1, 1)], "operator": [(2, 1)]})
    with pytest.raises(PermissionDenied, match="'admin' wrote or corrected") as caught:
        check_not_own_manuscript("admin", {"pelaksana": [(3, 2)], "admin": [(2, 1)]})
    assert "menulis atau mengoreksi" in caught.value.message and "v2 (putaran/round 1)" in caught.value.message


def test_checker_is_not_the_author_of_the_round():
    check_checker_not_author("operator", {"pelaksana"})
    with pytest.raises(PermissionDenied, match="may not check it") as caught:
        check_checker_not_author("admin", {"admin"})
    assert "tidak boleh memeriksanya" in caught.value.message


def test_reason_longer_than_the_limit_is_refused():
    assert normalize_decision("tolak", "x" * 20, 5, 20) == ("rejected", "x" * 20)
    with pytest.raises(InvalidInput) as caught:
        normalize_decision("tolak", "x" * 21, 5, 20)
    assert caught.value.field == "reason" and "longer than 20" in caught.value.message


# ---------------------------------------------------------------- normalize_decision
@pytest.mark.parametrize("value", ["approve", "approved", "setuju", "disetujui", " SETUJU ", "Approve"])
def test_approve_aliases(value):
    assert normalize_decision(value, "", 5) == ("approved", "")


@pytest.mark.parametrize("value", ["reject", "rejected", "tolak", "ditolak", "TOLAK"])
def test_reject_aliases(value):
    assert normalize_decision(value, "  Foto kurang jelas  ", 5) == ("rejected", "Foto kurang jelas")


@pytest.mark.parametrize("value", ["", None, "maybe", "ok"])
def test_unknown_decision(value):
    with pytest.raises(InvalidInput) as caught:
        normalize_decision(value, "reason", 5)
    assert caught.value.field == "decision"


@pytest.mark.parametrize("reason", ["", None, "   ", "jel", "  abcd  "])
def test_rejection_needs_a_reason(reason):
    with pytest.raises(InvalidInput) as caught:
        normalize_decision("tolak", reason, 5)
    assert caught.value.field == "reason"


def test_rejection_reason_at_the_minimum_is_enough():
    assert normalize_decision("reject", "abcde", 5) == ("rejected", "abcde")


def test_approval_keeps_an_optional_reason():
    assert normalize_decision("setuju", " Bagus ", 5) == ("approved", "Bagus")


# --------------------------------------------------------------------- next_position
def test_next_position_through_the_sop(config):
    position = Position("meliput", 1)
    visited = []
    while position.step_id != DONE:
        visited.append(position.step_id)
        position = next_position(config, position, config.step(position.step_id))
    assert visited == [s.id for s in config.steps]
    assert position == Position(DONE, 1)


def test_approved_goes_to_updating(config):
    decision = config.step("menyetujui")
    assert next_position(config, Position("menyetujui", 1), decision, "approved") == Position("updating", 1)
    assert next_position(config, Position("menyetujui", 3), decision, "approved") == Position("updating", 3)


def test_rejected_goes_back_to_menyusun_in_a_new_round(config):
    decision = config.step("menyetujui")
    assert next_position(config, Position("menyetujui", 1), decision, "rejected") == Position("menyusun", 2)
    assert next_position(config, Position("menyetujui", 2), decision, "rejected") == Position("menyusun", 3)


def test_rejected_only_matters_for_the_decision_step(config):
    step = config.step("memeriksa")
    assert next_position(config, Position("memeriksa", 1), step, "rejected") == Position("menyetujui", 1)


# ---------------------------------------------------------------------- record_round
def test_record_round(config):
    meliput = config.step("meliput")
    assert meliput.once_per_item
    assert [record_round(meliput, r) for r in (1, 2, 5)] == [1, 1, 1]
    menyusun = config.step("menyusun")
    assert [record_round(menyusun, r) for r in (1, 2, 5)] == [1, 2, 5]


def test_a_run_id_reads_back_as_the_item_and_round_it_was_built_from():
    from warta.models import parse_run_id, run_id_for

    assert run_id_for(7, 2) == "item-7-round-2"
    assert parse_run_id(run_id_for(7, 2)) == (7, 2)
    assert parse_run_id("manual__2026-11-26T08:00:00+00:00") is None
    assert parse_run_id("item-7-round-2-again") is None
