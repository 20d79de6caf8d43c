"""What the ``warta`` CLI says, in Bahasa Indonesia (default) and English: help texts,
argparse's own words, and errors. The language: ``--lang``, else the users.yaml ``lang``
of the ``--as`` user (or ``WARTA_USER``), else ``WARTA_LANG``, else Indonesian."""

from __future__ import annotations

import os
from typing import Sequence

LANGUAGES = ("id", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "description": ("Alur kerja redaksi Warta (SOP Updating Website dan Media Sosial)",
                    "Warta editorial workflow (SOP Updating Website dan Media Sosial)"),
    "opt_json": ("cetak JSON, bukan teks", "print JSON instead of text"),
    "opt_lang": ("bahasa keluaran: id (bawaan) atau en", "output language: id (default) or en"),
    "opt_as": ("nama login Anda di users.yaml (atau setel WARTA_USER)", "your login in users.yaml (or set WARTA_USER)"),
    "cmd_db": ("tugas database redaksi", "editorial database tasks"),
    "cmd_users": ("login produksi (FAB auth manager)", "production logins (FAB auth manager)"),
    "users_action": ("samakan pengguna dan peran Airflow dengan config/users.yaml",
                     "make Airflow's users and roles match config/users.yaml"),
    "users_passwords": ("JSON username: password; kata sandi pertama pengguna baru diambil dari sini atau dibuat ke "
                        "sini (bawaan $AIRFLOW_HOME/warta-passwords.json)",
                        "JSON username: password; new users' first passwords are taken from it or generated into it "
                        "(default $AIRFLOW_HOME/warta-passwords.json)"),
    "cmd_create": ("daftarkan berita dan antrekan run-nya", "register a news item and queue its run"),
    "create_title": ("judul kegiatan (wajib)", "the activity's title (required)"),
    "create_date": ("tanggal kegiatan, YYYY-MM-DD", "activity date, YYYY-MM-DD"),
    "create_place": ("tempat kegiatan", "where the activity took place"),
    "create_service": ("layanan terkait (id dari warta.yaml), bawaan lainnya", "related service (id in warta.yaml), default lainnya"),
    "create_notes": ("catatan liputan", "coverage notes"),
    "create_channel": ("kanal; ulangi untuk beberapa; bawaan dari config", "channel; repeat for several; default from config"),
    "opt_file": ("berkas dokumentasi; ulangi untuk beberapa", "documentation file; repeat for several"),
    "create_key": ("kunci pengiriman: kunci yang sama dua kali = satu berita", "the same key twice creates one item"),
    "cmd_record": ("catat langkah manusia sebuah berita", "record a human step of an item"),
    "record_item": ("nomor berita", "the item's number"),
    "record_step": ("langkah: meliput, menyusun, memeriksa atau menyetujui", "step: meliput, menyusun, memeriksa or menyetujui"),
    "record_notes": ("catatan untuk langkah ini (liputan, atau catatan naskah)", "notes for this step (coverage, or the manuscript's note)"),
    "record_title": ("judul naskah (menyusun, memeriksa)", "the manuscript's title (menyusun, memeriksa)"),
    "record_body": ("isi naskah sebagai teks (menyusun, memeriksa)", "the manuscript's body as text (menyusun, memeriksa)"),
    "record_body_file": ("isi naskah dari berkas UTF-8", "the manuscript's body from a UTF-8 file"),
    "record_decision": ("keputusan langkah menyetujui: approve/setuju atau reject/tolak",
                        "the decision of menyetujui: approve/setuju or reject/tolak"),
    "record_reason": ("alasan penolakan (wajib bila reject)", "the rejection's reason (required with reject)"),
    # ---- schedule: jadwal tayang
    "cmd_jadwal": ("jadwal tayang: pasang/pindah, batalkan, terbitkan sekarang, tampilkan",
                   "scheduled publication: set/move, cancel, release now, show"),
    "jadwal_action": ("set (pasang atau pindah); cancel (setelah disetujui berita ditahan, tidak terbit); "
                      "release = Terbitkan sekarang; show",
                      "set (or move); cancel (after approval the item is held, not published); "
                      "release = publish now; show"),
    "jadwal_time": ("untuk set: '2026-12-07 08:00' (WIB) atau ISO 8601 dengan zona",
                    "with set: '2026-12-07 08:00' (WIB) or ISO 8601 with an offset"),
    "jadwal_revision": ("revisi jadwal yang Anda lihat: ditolak (409) bila sudah berubah",
                        "the revision you saw: refused (409) if it changed since"),
    "cmd_kalender": ("jadwal dan tayangan per hari dan kanal", "scheduled and published posts per day and channel"),
    "kalender_from": ("hari pertama, YYYY-MM-DD (bawaan: hari ini, WIB)", "first day, YYYY-MM-DD (default today, WIB)"),
    "kalender_days": ("jumlah hari (bawaan 31)", "number of days (default 31)"),
    "record_publish_at": ("dengan --decision approve: jadwal tayang, mis. '2026-12-07 08:00' (WIB) atau ISO 8601 "
                          "dengan zona; tanpa ini: terbit saat itu juga",
                          "with --decision approve: the scheduled publication time, e.g. '2026-12-07 08:00' (WIB) "
                          "or ISO 8601 with an offset; default: publish at once"),
    "record_reason_code": ("alasan baku dari rejection_reasons di warta.yaml (boleh berulang)",
                           "a preset rejection reason from warta.yaml rejection_reasons (repeatable)"),
    "cmd_inbox": ("yang menunggu Anda (atau sebuah peran), terlama dulu", "what waits for you (or a role), oldest first"),
    "inbox_role": ("peran SOP (mis. operator) sebagai ganti --as", "an SOP role (e.g. operator) instead of --as"),
    "cmd_show": ("riwayat lengkap sebuah berita", "an item's full history"),
    "cmd_start": ("antrekan ulang run berita saat ini dan mulai (idempoten)",
                  "queue the item's current run again and start it (idempotent)"),
    "cmd_claim": ("ambil langkah yang menunggu (\"Saya kerjakan\") agar rekan melihatnya",
                  "take the waiting step (\"I'll do it\") so colleagues see it"),
    "cmd_release": ("lepaskan langkah yang Anda ambil (\"Lepaskan\")", "release a step you took"),
    "cmd_alerts": ("notifikasi untuk Anda; tandai sudah dibaca", "your alerts; mark them read"),
    "alerts_unread": ("hanya yang belum dibaca", "unread only"),
    "alerts_read": ("tandai notifikasi ini sudah dibaca; ulangi untuk beberapa", "mark this alert read; repeat for several"),
    "alerts_read_all": ("tandai semua sudah dibaca", "mark all read"),
    "cmd_retry": ("\"Coba lagi\": terbitkan ulang kanal yang gagal, sekali (Operator)",
                  "\"Try again\": publish a failed channel again, once (the Operator)"),
    "retry_channel": ("kanal yang gagal, mis. website", "the failed channel, e.g. website"),
    "cmd_serve": ("jalankan seluruh stack tertanam, diawasi, sampai Ctrl-C atau SIGTERM",
                  "run the whole embedded stack, supervised, until Ctrl-C or SIGTERM"),
    "opt_home": ("folder data stack (bawaan $AIRFLOW_HOME bila ada stack di sana, selain itu .dev/airflow)",
                 "the stack's data (default $AIRFLOW_HOME if a stack lives there, else .dev/airflow)"),
    "opt_port": ("port api-server (bawaan $WARTA_PORT, selain itu 8080)", "the api-server's port (default $WARTA_PORT, else 8080)"),
    "cmd_env": ("ekspor shell untuk CLI ini terhadap stack: eval \"$(warta env)\"",
                "shell exports for this CLI against the stack: eval \"$(warta env)\""),
    "cmd_status": ("komponen stack yang berjalan: status, lama hidup, restart", "the running stack's components: state, uptime, restarts"),
    "cmd_report": ("laporan bulanan: jadikan laporan sebulan final (Operator)",
                   "the monthly report: make a month's report final (the Operator)"),
    "report_month": ("bulan, YYYY-MM", "the month, YYYY-MM"),
    "report_lang": ("bahasa laporan", "the report's language"),
    "report_reason": ("wajib untuk koreksi laporan yang sudah final (revisi baru)",
                      "required for a correction of a final report (a new revision)"),
    "cmd_outbox": ("mulai run Airflow yang diantrekan di database redaksi", "start the Airflow runs queued in the editorial DB"),
    "outbox_action": ("serve: terus-menerus (komponen stack); drain: sekali", "serve: forever (a stack component); drain: once"),
    "outbox_poll": ("serve: jeda antar-drain saat sepi", "serve: pause between drains when idle"),
    "outbox_heartbeat": ("serve: sentuh berkas ini setiap selesai drain (untuk healthcheck)",
                         "serve: touch this file after every drain (for a healthcheck)"),
    "outbox_concurrency": ("serve, drain: run yang dimulai bersamaan (bawaan {n}; 1 bila Airflow memakai SQLite)",
                           "serve, drain: runs started at once (default {n}; 1 if Airflow is on SQLite)"),
    # errors
    "error": ("galat", "error"),
    "err_who": ("sebutkan siapa Anda: --as USERNAME (atau setel WARTA_USER)", "say who you are: --as USERNAME (or set WARTA_USER)"),
    "err_unknown_user": ("pengguna {name!r} tidak dikenal: tidak ada di config/users.yaml",
                         "unknown user {name!r}: not in config/users.yaml"),
    "err_read": ("tidak dapat membaca {path}: {why}", "cannot read {path}: {why}"),
    "err_finished": ("berita {n} sudah selesai", "item {n} is finished"),
    "err_not_running": ("Warta tidak berjalan di {home} (jalankan dengan `warta serve` atau `make run`)",
                        "Warta is not running in {home} (start it with `warta serve` or `make run`)"),
    "err_invalid_input": ("isian tidak valid", "invalid input"),
    "err_forbidden": ("tidak diizinkan", "not allowed"),
    "err_not_found": ("tidak ditemukan", "not found"),
    "err_conflict": ("bentrok dengan keadaan saat ini", "conflicts with the current state"),
    "err_workflow_error": ("tidak sesuai SOP", "not allowed by the SOP"),
    "err_airflow_unavailable": ("Airflow tidak dapat dihubungi", "Airflow cannot be reached"),
    # output
    "inbox_empty": ("Tidak ada yang menunggu.", "Nothing waits."),
    "late": ("TERLAMBAT", "LATE"),
    "minutes_left": ("sisa {n} menit", "{n} min left"),
    "round_n": ("putaran {n}", "round {n}"),
    "since": ("sejak {when}", "since {when}"),
    "claimed": ("#{item} langkah {step}: sekarang Anda kerjakan", "#{item} step {step}: you are doing it now"),
    "released": ("#{item} langkah {step}: dilepas", "#{item} step {step}: released"),
    "not_claimed": ("#{item} langkah {step}: tidak ada yang mengambil", "#{item} step {step}: nobody had taken it"),
    "alerts_none": ("Tidak ada notifikasi.", "No alerts."),
    "alerts_marked": ("{n} ditandai sudah dibaca; {unread} belum dibaca.", "{n} marked read; {unread} unread."),
    "alerts_unread_n": ("{n} belum dibaca", "{n} unread"),
    "retrying": ("#{item} {channel}: dicoba lagi (run {run_id}, task {task_id}[{map_index}])",
                 "#{item} {channel}: trying again (run {run_id}, task {task_id}[{map_index}])"),
}

# argparse's own words (it asks gettext; the CLI answers in the user's language).
ARGPARSE_ID = {
    "usage: ": "pemakaian: ",
    "positional arguments": "argumen posisi",
    "options": "opsi",
    "show this help message and exit": "tampilkan bantuan ini lalu keluar",
    "the following arguments are required: %s": "argumen berikut wajib diisi: %s",
    "argument %(argument_name)s: %(message)s": "argumen %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "pilihan tidak valid: %(value)r (pilih dari %(choices)s)",
    "invalid %(type)s value: %(value)r": "nilai %(type)s tidak valid: %(value)r",
    "unrecognized arguments: %s": "argumen tidak dikenal: %s",
    "expected one argument": "perlu satu nilai",
    "ambiguous option: %(option)s could match %(matches)s": "opsi ambigu: %(option)s bisa berarti %(matches)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s: galat: %(message)s\n",
}


def text(lang: str, key: str, **values) -> str:
    texts = MESSAGES[key]
    message = texts[1 if lang == "en" else 0]
    return message.format(**values) if values else message


def _option(argv: Sequence[str], name: str) -> str | None:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def language_of(argv: Sequence[str]) -> str:
    """The CLI's language for this command line, decided before parsing (help is in it)."""
    chosen = (_option(argv, "--lang") or "").lower()
    if chosen in LANGUAGES:
        return chosen
    user = _option(argv, "--as") or os.environ.get("WARTA_USER")
    if user:
        try:
            from warta.config import get_config

            known = get_config().users.get(user)
        except Exception:  # a broken config is reported by the command itself
            known = None
        if known is not None:
            return known.lang
    env = (os.environ.get("WARTA_LANG") or "").lower()[:2]
    return env if env in LANGUAGES else "id"


def use_argparse_language(lang: str) -> None:
    """argparse's words in ``lang`` (it calls its module-level gettext ``_``)."""
    import argparse
    import gettext

    table = ARGPARSE_ID if lang == "id" else {}
    argparse._ = lambda message: table.get(message, gettext.gettext(message))  # type: ignore[attr-defined]
