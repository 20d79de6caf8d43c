"""The CLI speaks the user's language (help, argparse's words, errors), refuses an unknown
``--as`` user, and claims, releases and reads alerts like the desk."""

from __future__ import annotations

import json

import pytest

from warta import cli
from warta.cli_messages import language_of


@pytest.fixture
def run(service, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_service", lambda: service)
    monkeypatch.delenv("WARTA_USER", raising=False)
    monkeypatch.delenv("WARTA_LANG", raising=False)

    def call(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


def test_help_is_indonesian_by_default_and_english_on_request(run, capsys):
    with pytest.raises(SystemExit):
        cli.main(["record", "--help"])
    said = capsys.readouterr().out
    assert "pemakaian: warta record" in said and "opsi:" in said
    assert "alasan penolakan" in said and "isi naskah dari berkas UTF-8" in said
    with pytest.raises(SystemExit):
        cli.main(["--lang", "en", "record", "--help"])
    said = capsys.readouterr().out
    assert "usage: warta record" in said and "the rejection's reason" in said


def test_every_record_option_has_help(run):
    parser = cli.build_parser("id")
    record = parser._subparsers._group_actions[0].choices["record"]  # noqa: SLF001 - reading argparse's tree
    for action in record._actions:
        assert action.help, action.dest


def test_argparse_errors_are_in_the_users_language(run, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["record"])
    assert exit_.value.code == 2
    assert "galat: argumen berikut wajib diisi: item_id, step" in capsys.readouterr().err


def test_an_unknown_user_is_an_error(run):
    code, out, err = run("inbox", "--as", "siapa")
    assert code == 2 and out == ""
    assert "pengguna 'siapa' tidak dikenal" in err
    code, _, err = run("--lang", "en", "inbox", "--as", "siapa")
    assert code == 2 and "unknown user 'siapa'" in err


def test_the_language_follows_users_yaml(monkeypatch, config_copy):
    from warta.config import get_config

    assert language_of(["inbox", "--as", "operator"]) == "id"
    assert language_of(["inbox", "--lang=en"]) == "en"
    monkeypatch.setenv("WARTA_LANG", "en")
    assert language_of(["inbox"]) == "en"
    users = config_copy / "users.yaml"
    users.write_text(users.read_text().replace("  operator:\n", "  operator:\n    lang: en\n", 1))
    monkeypatch.setenv("WARTA_CONFIG_DIR", str(config_copy))
    assert get_config().users["operator"].lang == "en"
    assert language_of(["inbox", "--as", "operator"]) == "en"


def test_service_errors_say_what_kind_in_indonesian(run, flow):
    item_id = flow.to_decision()
    code, _, err = run("record", str(item_id), "menyetujui", "--as", "subkoor", "--decision", "tolak",
                       "--reason", "x")
    assert code == 1 and "galat: isian tidak valid" in err and "reason" in err
    code, _, err = run("show", "999")
    assert code == 1 and "tidak ditemukan" in err


def test_claim_release_and_alerts(run, flow):
    item_id = flow.create()
    flow.cover(item_id)
    code, out, _ = run("ambil", str(item_id), "menyusun", "--as", "pelaksana2")
    assert code == 0 and "sekarang Anda kerjakan" in out
    code, _, err = run("claim", str(item_id), "menyusun", "--as", "pelaksana")
    assert code == 1 and "bentrok" in err and "Pelaksana Kegiatan 2" in err
    code, out, _ = run("lepas", str(item_id), "menyusun", "--as", "pelaksana2")
    assert code == 0 and "dilepas" in out
    code, out, _ = run("notifikasi", "--as", "pelaksana2")
    assert code == 0 and "1 belum dibaca" in out and "Menunggu Anda" in out
    code, out, _ = run("--json", "alerts", "--as", "pelaksana2", "--read-all")
    assert code == 0 and json.loads(out) == {"marked": 1, "unread": 0}


def test_the_inbox_speaks_the_users_language(run, flow):
    flow.create("Liputan panen")
    code, out, _ = run("inbox", "--as", "pelaksana")
    assert code == 0 and "putaran 1" in out and "sejak" in out and "Liputan panen" in out
    code, out, _ = run("--lang", "en", "inbox", "--as", "operator")
    assert code == 0 and out.strip() == "Nothing waits."
