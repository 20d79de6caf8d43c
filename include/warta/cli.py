"""`warta`: the editorial workflow on the command line.

    warta db upgrade
    warta users sync [--passwords-file F]  (production logins: FAB users and roles from users.yaml)
    warta create --as pelaksana --title "..." [--date 2026-11-26] [--file foto.jpg ...]
    warta inbox --as operator            (or --role subkoordinator)
    warta record 42 menyusun --as pelaksana --title "..." --body-file naskah.txt
    warta record 42 menyetujui --as subkoor --decision reject --reason "..."
    warta record 42 menyetujui --as subkoor --decision approve --publish-at "2026-12-07 08:00"
    warta jadwal 42 set "2026-12-07 08:00" --as subkoor   (jadwal tayang, WIB; also: move)
    warta jadwal 42 cancel|release|show --as operator     (release = "Terbitkan sekarang")
    warta kalender [--from 2026-12-01] [--days 31]        (scheduled and published, per channel)
    warta show 42
    warta start 42                       (queue the item's current run again, idempotent)
    warta outbox serve                   (start the runs the editorial DB asks for, forever)
    warta outbox drain                   (the same, once)
    warta serve [--home DIR] [--port N]  (the whole embedded stack, supervised, until Ctrl-C or SIGTERM)
    warta status [--home DIR]            (the running stack: each component's state, uptime, restarts)
    warta env [--home DIR] [--port N]    (shell exports for this CLI against that stack)
    warta report finalise 2026-10 --as operator [--lang en] [--reason "..."]
                                         (make the month's report final; again with a reason: a new revision)
    warta claim 42 menyusun --as pelaksana2   (alias `ambil`: "Saya kerjakan"; `release`/`lepas` gives it back)
    warta alerts --as operator [--unread] [--read ID ...|--read-all]   (alias `notifikasi`)
    warta retry 42 website --as operator      (alias `coba-lagi`: publish a failed channel again, once)

Help and errors speak the user's language: `--lang id|en`, else users.yaml `lang` of the
`--as` user, else WARTA_LANG, else Indonesian. An `--as` user users.yaml does not list is
an error (exit 2).

Errors are one line on stderr and a non-zero exit; nothing is half-written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from warta.outbox import CONCURRENCY
from warta.workflow import DONE, WorkflowError


class CliError(Exception):
    pass


def _service():
    from warta.service import default_service

    return default_service()


def _m(args, key: str, **values) -> str:
    from warta.cli_messages import text

    return text(getattr(args, "lang", None) or "id", key, **values)


def _actor(args) -> str:
    actor = args.actor or os.environ.get("WARTA_USER")
    if not actor:
        raise CliError(_m(args, "err_who"))
    from warta.config import get_config

    if actor not in get_config().users:  # a typo must not read as "nothing waits for you"
        raise CliError(_m(args, "err_unknown_user", name=actor))
    return actor


def _read_text(value: str | None, path: str | None) -> str | None:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(_m(None, "err_read", path=path, why=exc.strerror)) from None
    return value


def _uploads(paths: list[str] | None):
    from warta.service import Upload

    uploads = []
    for path in paths or []:
        try:
            uploads.append(Upload(filename=Path(path).name, data=Path(path).read_bytes()))
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror}") from None
    return uploads


def _local(iso: str | None, tz: str) -> str:
    """The CLI speaks Indonesian; its moments read as the report's tables do."""
    from warta.formatting import formatter

    return formatter("id", tz).datetime(iso) if iso else "-"


def cmd_db(args) -> dict:
    from warta import db

    db.upgrade()
    return {"revision": db.current_revision()}


def cmd_users(args) -> dict:
    from warta.airflow.logins import LoginSyncError, sync_logins
    from warta.config import get_config

    path = Path(args.passwords_file) if args.passwords_file else (
        Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow") / "warta-passwords.json")
    try:
        # Airflow and FAB log to stdout while they start; keep stdout for the result.
        with contextlib.redirect_stdout(sys.stderr):
            return sync_logins(get_config(), path).as_dict()
    except LoginSyncError as exc:
        raise CliError(str(exc)) from None


def cmd_create(args) -> dict:
    service = _service()
    return service.create_item(
        _actor(args),
        title=args.title,
        activity_date=args.date,
        place=args.place or "",
        service=args.service,
        notes=_read_text(args.notes, None) or "",
        channels=args.channel,
        submission_key=args.submission_key,
        uploads=_uploads(args.file),
        start_run=not args.no_run,
    )


def cmd_record(args) -> dict:
    service = _service()
    return service.record_step(
        args.item_id,
        args.step,
        _actor(args),
        notes=args.notes or "",
        title=args.title,
        body=_read_text(args.body, args.body_file),
        decision=args.decision,
        reason=args.reason or "",
        reason_codes=args.reason_code or [],
        uploads=_uploads(args.file),
        publish_at=args.publish_at,
    )


def cmd_schedule(args) -> dict:
    """Jadwal tayang: set or move, cancel (held after approval), release now, show."""
    from warta.scheduling import Scheduling

    scheduling = Scheduling(_service())
    if args.action == "show":
        return scheduling.get(args.item_id)
    actor = _actor(args)
    if args.action == "set":
        if not args.time:
            raise CliError("give the time: warta jadwal ID set \"2026-12-07 08:00\" (WIB)")
        return scheduling.schedule(args.item_id, actor, args.time, expected_revision=args.revision)
    if args.action == "cancel":
        return scheduling.cancel(args.item_id, actor, expected_revision=args.revision)
    return scheduling.release(args.item_id, actor, expected_revision=args.revision)


def cmd_calendar(args) -> list:
    from datetime import date, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from warta.config import get_config
    from warta.scheduling import Scheduling

    tz = ZoneInfo(get_config().timezone)
    try:
        first = date.fromisoformat(args.start) if args.start else datetime.now(tz).date()
    except ValueError:
        raise CliError(f"--from {args.start!r} is not a date like 2026-12-01") from None
    start = datetime.combine(first, time(0), tz)
    entries = Scheduling(_service()).calendar(start, start + timedelta(days=max(1, min(args.days, 366))))
    return [e | {"at": e["at"].isoformat()} for e in entries]


def cmd_inbox(args) -> list:
    service = _service()
    if args.role:
        return service.waiting_for(role=args.role)
    return service.waiting_for(username=_actor(args))


def cmd_claim(args) -> dict:
    from warta.desk_flow import claim_step

    return claim_step(_service(), args.item_id, args.step, _actor(args))


def cmd_release(args) -> dict:
    from warta.desk_flow import release_step

    return release_step(_service(), args.item_id, args.step, _actor(args))


def cmd_alerts(args) -> dict:
    from warta.desk_flow import mark_read, user_alerts

    service, actor = _service(), _actor(args)
    if args.read or args.read_all:
        return mark_read(service, actor, None if args.read_all else args.read)
    return user_alerts(service, actor, unread_only=args.unread, limit=50)


def cmd_retry(args) -> dict:
    from warta.airflow_api import AirflowApi, AirflowTaskRunning
    from warta.desk_flow import retry_publication
    from warta.workflow import Conflict

    def clear(dag_id, run_id, task_id, map_index):
        try:
            return AirflowApi.from_connection().clear_failed_task(dag_id, run_id, task_id, map_index,
                                                                  note="Coba lagi dari CLI Warta")
        except AirflowTaskRunning as exc:
            raise Conflict(str(exc)) from None

    return retry_publication(_service(), args.item_id, args.channel, _actor(args), clear)


def cmd_show(args) -> dict:
    return _service().history(args.item_id)


def cmd_start(args) -> dict:
    """Queue the current round's run through the outbox, then drain it once here."""
    from warta.outbox import Outbox

    service = _service()
    item = service.get_item(args.item_id)
    if item["current_step"] == DONE:
        raise CliError(_m(args, "err_finished", n=args.item_id))
    queued = service.request_run(item["id"], item["round"])
    Outbox(service).drain()
    return queued | {"run_state": service.get_item(item["id"])["run_state"]}


def cmd_outbox(args) -> dict:
    import logging

    from warta.outbox import Outbox

    if args.action == "drain":
        return Outbox(_service(), concurrency=args.concurrency).drain()
    outbox = Outbox.lean(concurrency=args.concurrency)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    outbox.serve(poll_seconds=args.poll_seconds, heartbeat_file=args.heartbeat_file)
    return {"started": outbox.started, "failed": outbox.failed}


def _stack_home(args) -> Path:
    if args.home:
        return Path(args.home)
    home = os.environ.get("AIRFLOW_HOME")
    if home and (Path(home) / "supervisor").is_dir():
        return Path(home)
    from warta.stack import DEFAULT_HOME

    return DEFAULT_HOME


def _port(args) -> int:
    return args.port or int(os.environ.get("WARTA_PORT", "8080"))


def cmd_serve(args) -> int:
    """The production stack against the Connections configured for it (no sandboxes)."""
    from warta.stack import Stack, serve

    return serve(Stack(home=_stack_home(args), port=_port(args)))


def cmd_env(args) -> dict:
    from warta.stack import Stack, cli_env

    return cli_env(Stack(home=_stack_home(args), port=_port(args)))


def cmd_status(args) -> list:
    from warta.supervision import status

    home = _stack_home(args)
    try:
        rows = status(home / "supervisor")
    except OSError:
        raise CliError(_m(args, "err_not_running", home=home)) from None
    return [vars(row) for row in rows]


def cmd_report(args) -> dict:
    from warta.report import ReportMonth
    from warta.report.final import as_answer, finalise

    service = _service()
    try:
        month = ReportMonth.parse(args.month, service.config.timezone)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    final, stored = finalise(service, month, _actor(args), lang=args.report_lang, reason=args.reason or "")
    return as_answer(final) | {"files": stored.keys}


def _print_human(command: str, result, tz: str, lang: str = "id") -> None:
    from warta.cli_messages import text

    if command == "env":
        for key, value in result.items():
            print(f"export {key}='{value}'")
    elif command == "inbox":
        if not result:
            print(text(lang, "inbox_empty"))
        for row in result:
            minutes = row["seconds_left"] // 60
            late = text(lang, "late") if row["overdue"] else text(lang, "minutes_left", n=minutes)
            print(f"#{row['id']:<6} {row['current_step_name']:<45} {text(lang, 'round_n', n=row['round'])}  "
                  f"{text(lang, 'since', when=_local(row['waiting_since'], tz))}  {late}  {row['title']}")
    elif command in ("claim", "release"):
        if "username" in result:
            print(text(lang, "claimed", item=result["item_id"], step=result["step"]))
        else:
            print(text(lang, "released" if result["released"] else "not_claimed", item=result["item_id"],
                       step=result["step"]))
    elif command == "alerts":
        if "marked" in result:
            print(text(lang, "alerts_marked", n=result["marked"], unread=result["unread"]))
            return
        print(text(lang, "alerts_unread_n", n=result["unread"]))
        if not result["alerts"]:
            print(text(lang, "alerts_none"))
        for alert in result["alerts"]:
            mark = " " if alert["read"] else "*"
            print(f"{mark} {alert['id']:<6} {_local(alert['created_at'], tz)}  {alert['subject']}")
    elif command == "retry":
        print(text(lang, "retrying", item=result["item_id"], channel=result["channel"], run_id=result["run_id"],
                   task_id=result["task_id"], map_index=result["map_index"]))
    elif command == "show":
        print(f"#{result['id']} {result['title']}")
        print(f"  status: {result['status']} · langkah: {result['current_step_name']} · putaran {result['round']} "
              f"· ditolak {result['rejections']}x · run {result['run_id']}")
        for record in result["records"]:
            extra = f" {record['decision']}" if record["decision"] != "done" else ""
            reason = f" — {record['reason']}" if record["reason"] else ""
            print(f"  {_local(record['recorded_at'], tz)}  r{record['round']} {record['step']:<15} "
                  f"{record['actor']}{extra}{reason}")
        for pub in result["publications"]:
            print(f"  terbit {pub['channel']}: {pub['status']} {pub['url'] or ''} {pub['error'] or ''}")
    elif command == "jadwal":
        from warta.scheduling import STATE_LABELS

        label = STATE_LABELS[result["state"]]
        at = f" {_local(result['publish_at'], tz)}" if result["publish_at"] else ""
        print(f"#{result['item_id']} jadwal tayang: {label[0]} ({label[1]}){at} · revisi {result['revision']}")
    elif command == "kalender":
        if not result:
            print("Tidak ada jadwal atau tayangan. (Nothing scheduled or published.)")
        for row in result:
            kind = "jadwal" if row["kind"] == "scheduled" else "terbit"
            print(f"{_local(row['at'], tz)}  {kind:<7} {row['channel']:<10} #{row['item_id']:<6} {row['title']}")
    elif command == "report":
        print(f"Laporan {result['month']} ({result['lang']}) final: revisi {result['revision']}, "
              f"uraian versi {result['narrative_version']}, oleh {result['finalised_by']} "
              f"pada {_local(result['finalised_at'], tz)}; PDF sha256 {result['pdf_sha256']}")
    elif command == "status":
        from warta.supervision import format_uptime

        print(f"{'component':<16} {'state':<10} {'pid':>7}  {'uptime':<12} restarts")
        for row in result:
            uptime = format_uptime(row["uptime_seconds"]) if row["state"] == "RUNNING" else "-"
            print(f"{row['name']:<16} {row['state']:<10} {row['pid'] or '-':>7}  {uptime:<12} {row['restarts']}")
    elif command == "users":
        for role, base in result["roles"].items():
            print(f"role {role!r}: permissions of {base}")
        for what in ("created", "updated", "unchanged"):
            if result[what]:
                print(f"{what}: {', '.join(result[what])}")
        if result["created"]:
            print(f"first passwords of new users: {result['passwords_file']} (hand them over, then delete it)")
    elif isinstance(result, dict) and "id" in result:
        recorded = result.get("recorded")
        done = f"recorded {recorded['step']} ({recorded['decision']}); " if recorded else ""
        dup = " (already received)" if result.get("duplicate") else ""
        print(f"#{result['id']} {result['title']}: {done}now at {result['current_step_name']} "
              f"(putaran {result['round']}){dup}")
    else:
        print(json.dumps(result, ensure_ascii=False))


def build_parser(lang: str = "id") -> argparse.ArgumentParser:
    from warta.cli_messages import text, use_argparse_language

    use_argparse_language(lang)

    def m(key: str, **values) -> str:
        return text(lang, key, **values)

    parser = argparse.ArgumentParser(prog="warta", description=m("description"))
    parser.add_argument("--json", action="store_true", help=m("opt_json"))
    parser.add_argument("--lang", choices=["id", "en"], help=m("opt_lang"))
    sub = parser.add_subparsers(dest="command", required=True)

    def as_option(p) -> None:
        p.add_argument("--as", dest="actor", metavar="USERNAME", help=m("opt_as"))

    p = sub.add_parser("db", help=m("cmd_db"), description=m("cmd_db"))
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("users", help=m("cmd_users"), description=m("cmd_users"))
    p.add_argument("action", choices=["sync"], help=m("users_action"))
    p.add_argument("--passwords-file", help=m("users_passwords"))
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("create", help=m("cmd_create"), description=m("cmd_create"))
    as_option(p)
    p.add_argument("--title", required=True, help=m("create_title"))
    p.add_argument("--date", help=m("create_date"))
    p.add_argument("--place", help=m("create_place"))
    p.add_argument("--service", default="lainnya", help=m("create_service"))
    p.add_argument("--notes", help=m("create_notes"))
    p.add_argument("--channel", action="append", help=m("create_channel"))
    p.add_argument("--file", action="append", help=m("opt_file"))
    p.add_argument("--submission-key", help=m("create_key"))
    p.add_argument("--no-run", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("record", help=m("cmd_record"), description=m("cmd_record"))
    p.add_argument("item_id", type=int, help=m("record_item"))
    p.add_argument("step", help=m("record_step"))
    as_option(p)
    p.add_argument("--notes", help=m("record_notes"))
    p.add_argument("--title", help=m("record_title"))
    p.add_argument("--body", help=m("record_body"))
    p.add_argument("--body-file", help=m("record_body_file"))
    p.add_argument("--decision", help=m("record_decision"))
    p.add_argument("--reason", help=m("record_reason"))
    p.add_argument("--reason-code", action="append", metavar="ID", help=m("record_reason_code"))
    p.add_argument("--publish-at", help=m("record_publish_at"))
    p.add_argument("--file", action="append", help=m("opt_file"))
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("jadwal", aliases=["schedule"], help=m("cmd_jadwal"), description=m("cmd_jadwal"))
    p.add_argument("item_id", type=int, help=m("record_item"))
    p.add_argument("action", choices=["set", "cancel", "release", "show"], help=m("jadwal_action"))
    p.add_argument("time", nargs="?", help=m("jadwal_time"))
    as_option(p)
    p.add_argument("--revision", type=int, help=m("jadwal_revision"))
    p.set_defaults(func=cmd_schedule, command="jadwal")

    p = sub.add_parser("kalender", aliases=["calendar"], help=m("cmd_kalender"), description=m("cmd_kalender"))
    p.add_argument("--from", dest="start", help=m("kalender_from"))
    p.add_argument("--days", type=int, default=31, help=m("kalender_days"))
    p.set_defaults(func=cmd_calendar, command="kalender")

    p = sub.add_parser("inbox", help=m("cmd_inbox"), description=m("cmd_inbox"))
    as_option(p)
    p.add_argument("--role", help=m("inbox_role"))
    p.set_defaults(func=cmd_inbox)

    p = sub.add_parser("show", help=m("cmd_show"), description=m("cmd_show"))
    p.add_argument("item_id", type=int, help=m("record_item"))
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("start", help=m("cmd_start"), description=m("cmd_start"))
    p.add_argument("item_id", type=int, help=m("record_item"))
    p.set_defaults(func=cmd_start)

    # desk-flow: whose turn it is, on the command line too.
    for name, alias, func, key in (("claim", "ambil", cmd_claim, "cmd_claim"),
                                   ("release", "lepas", cmd_release, "cmd_release")):
        p = sub.add_parser(name, aliases=[alias], help=m(key), description=m(key))
        p.add_argument("item_id", type=int, help=m("record_item"))
        p.add_argument("step", help=m("record_step"))
        as_option(p)
        p.set_defaults(func=func, command=name)

    p = sub.add_parser("alerts", aliases=["notifikasi"], help=m("cmd_alerts"), description=m("cmd_alerts"))
    as_option(p)
    p.add_argument("--unread", action="store_true", help=m("alerts_unread"))
    p.add_argument("--read", type=int, action="append", metavar="ID", help=m("alerts_read"))
    p.add_argument("--read-all", action="store_true", help=m("alerts_read_all"))
    p.set_defaults(func=cmd_alerts, command="alerts")

    p = sub.add_parser("retry", aliases=["coba-lagi"], help=m("cmd_retry"), description=m("cmd_retry"))
    p.add_argument("item_id", type=int, help=m("record_item"))
    p.add_argument("channel", help=m("retry_channel"))
    as_option(p)
    p.set_defaults(func=cmd_retry, command="retry")

    p = sub.add_parser("serve", help=m("cmd_serve"), description=m("cmd_serve"))
    p.add_argument("--home", help=m("opt_home"))
    p.add_argument("--port", type=int, help=m("opt_port"))
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("env", help=m("cmd_env"), description=m("cmd_env"))
    p.add_argument("--home", help=m("opt_home"))
    p.add_argument("--port", type=int, help=m("opt_port"))
    p.set_defaults(func=cmd_env)

    p = sub.add_parser("status", help=m("cmd_status"), description=m("cmd_status"))
    p.add_argument("--home", help=m("opt_home"))
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("report", help=m("cmd_report"), description=m("cmd_report"))
    p.add_argument("action", choices=["finalise"])
    p.add_argument("month", help=m("report_month"))
    as_option(p)
    p.add_argument("--lang", dest="report_lang", choices=["id", "en"], help=m("report_lang"))
    p.add_argument("--reason", help=m("report_reason"))
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("outbox", help=m("cmd_outbox"), description=m("cmd_outbox"))
    p.add_argument("action", choices=["serve", "drain"], help=m("outbox_action"))
    p.add_argument("--poll-seconds", type=float, default=0.5, help=m("outbox_poll"))
    p.add_argument("--heartbeat-file", help=m("outbox_heartbeat"))
    p.add_argument("--concurrency", type=int, default=CONCURRENCY, help=m("outbox_concurrency", n=CONCURRENCY))
    p.set_defaults(func=cmd_outbox)
    return parser


def _error_text(exc: Exception, lang: str) -> str:
    """An error in the user's language: the kind of problem first, then its detail."""
    from warta.cli_messages import MESSAGES, text
    from warta.workflow import InvalidInput

    if isinstance(exc, CliError):
        return str(exc)
    if isinstance(exc, InvalidInput):
        from warta.web.i18n import MESSAGES as DESK_MESSAGES, translate

        parts = []
        for problem in exc.problems:
            key = f"err_{problem.reason}"
            params = {k: v for k, v in problem.params.items() if k != "max_bytes"}
            try:
                said = translate(lang, key, **params) if key in DESK_MESSAGES else problem.message
            except KeyError:
                said = problem.message
            parts.append(f"{problem.field}: {said}" if problem.field else said)
        return f"{text(lang, 'err_invalid_input')}: " + "; ".join(parts)
    code = getattr(exc, "code", None)
    if code and f"err_{code}" in MESSAGES:
        return f"{text(lang, 'err_' + code)}: {exc}"
    return str(exc)


def main(argv: list[str] | None = None) -> int:
    from warta.cli_messages import language_of, text

    argv = list(sys.argv[1:] if argv is None else argv)
    lang = language_of(argv)
    args = build_parser(lang).parse_args(argv)
    args.lang = args.lang or lang
    from warta.airflow_api import AirflowApiError
    from warta.config import ConfigError, get_config
    from warta.storage import StorageError

    if args.command == "serve":  # runs until stopped; its exit code is the answer
        return cmd_serve(args)
    try:
        result = args.func(args)
    except (CliError, WorkflowError, AirflowApiError, ConfigError, StorageError) as exc:
        print(f"warta: {text(args.lang, 'error')}: {_error_text(exc, args.lang)}", file=sys.stderr)
        return 2 if isinstance(exc, CliError) else 1
    finally:
        from warta.desk_flow import wait_for_deliveries

        wait_for_deliveries()  # hand-off alerts of a recorded step leave before the CLI exits
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        _print_human(args.command, result, get_config().timezone, args.lang)
    return 0


if __name__ == "__main__":
    sys.exit(main())
