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


def _actor(args) -> str:
    actor = args.actor or os.environ.get("WARTA_USER")
    if not actor:
        raise CliError("say who you are: --as USERNAME (or set WARTA_USER)")
    return actor


def _read_text(value: str | None, path: str | None) -> str | None:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot read {path}: {exc.strerror}") from None
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


def cmd_show(args) -> dict:
    return _service().history(args.item_id)


def cmd_start(args) -> dict:
    """Queue the current round's run through the outbox, then drain it once here."""
    from warta.outbox import Outbox

    service = _service()
    item = service.get_item(args.item_id)
    if item["current_step"] == DONE:
        raise CliError(f"item {args.item_id} is finished")
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
        raise CliError(f"Warta is not running in {home} (start it with `warta serve` or `make run`)") from None
    return [vars(row) for row in rows]


def cmd_report(args) -> dict:
    from warta.report import ReportMonth
    from warta.report.final import as_answer, finalise

    service = _service()
    try:
        month = ReportMonth.parse(args.month, service.config.timezone)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    final, stored = finalise(service, month, _actor(args), lang=args.lang, reason=args.reason or "")
    return as_answer(final) | {"files": stored.keys}


def _print_human(command: str, result, tz: str) -> None:
    if command == "env":
        for key, value in result.items():
            print(f"export {key}='{value}'")
    elif command == "inbox":
        if not result:
            print("Tidak ada yang menunggu. (Nothing waits.)")
        for row in result:
            late = "TERLAMBAT" if row["overdue"] else f"sisa {row['seconds_left'] // 60} menit"
            print(f"#{row['id']:<6} {row['current_step_name']:<45} putaran {row['round']}  "
                  f"sejak {_local(row['waiting_since'], tz)}  {late}  {row['title']}")
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
            print(f"  tayang {pub['channel']}: {pub['status']} {pub['url'] or ''} {pub['error'] or ''}")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="warta", description="Warta editorial workflow (SOP Updating Website dan Media Sosial)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("db", help="editorial database tasks")
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("users", help="production logins (FAB auth manager)")
    p.add_argument("action", choices=["sync"], help="make Airflow's users and roles match config/users.yaml")
    p.add_argument("--passwords-file", help="JSON username: password; new users' first passwords are "
                   "taken from it or generated into it (default $AIRFLOW_HOME/warta-passwords.json)")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("create", help="register a news item and queue its run")
    p.add_argument("--as", dest="actor")
    p.add_argument("--title", required=True)
    p.add_argument("--date", help="activity date, YYYY-MM-DD")
    p.add_argument("--place")
    p.add_argument("--service", default="lainnya")
    p.add_argument("--notes")
    p.add_argument("--channel", action="append", help="repeat for several; default from config")
    p.add_argument("--file", action="append", help="documentation file; repeat for several")
    p.add_argument("--submission-key", help="the same key twice creates one item")
    p.add_argument("--no-run", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("record", help="record a human step of an item")
    p.add_argument("item_id", type=int)
    p.add_argument("step", help="meliput, menyusun, memeriksa or menyetujui")
    p.add_argument("--as", dest="actor")
    p.add_argument("--notes")
    p.add_argument("--title")
    p.add_argument("--body")
    p.add_argument("--body-file")
    p.add_argument("--decision", help="approve or reject")
    p.add_argument("--reason")
    p.add_argument("--file", action="append")
    p.add_argument("--publish-at", help="with --decision approve: jadwal tayang, e.g. '2026-12-07 08:00' (WIB) "
                   "or ISO 8601 with an offset; default: publish at once")
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("jadwal", aliases=["schedule"], help="jadwal tayang: set/move, cancel, release now, show")
    p.add_argument("item_id", type=int)
    p.add_argument("action", choices=["set", "cancel", "release", "show"],
                   help="set (or move); cancel (after approval the item is held, not published); "
                        "release = Terbitkan sekarang")
    p.add_argument("time", nargs="?", help="set: '2026-12-07 08:00' (WIB) or ISO 8601 with an offset")
    p.add_argument("--as", dest="actor")
    p.add_argument("--revision", type=int, help="the revision you saw: refused (409) if it changed since")
    p.set_defaults(func=cmd_schedule, command="jadwal")

    p = sub.add_parser("kalender", aliases=["calendar"], help="scheduled and published posts per day and channel")
    p.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default today, WIB)")
    p.add_argument("--days", type=int, default=31)
    p.set_defaults(func=cmd_calendar, command="kalender")

    p = sub.add_parser("inbox", help="what waits for you (or a role), oldest first")
    p.add_argument("--as", dest="actor")
    p.add_argument("--role")
    p.set_defaults(func=cmd_inbox)

    p = sub.add_parser("show", help="an item's full history")
    p.add_argument("item_id", type=int)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("start", help="queue the item's current run again and start it (idempotent)")
    p.add_argument("item_id", type=int)
    p.set_defaults(func=cmd_start)

    p = sub.add_parser("serve", help="run the whole embedded stack, supervised, until Ctrl-C or SIGTERM")
    p.add_argument("--home", help="the stack's data (default $AIRFLOW_HOME if a stack lives there, else .dev/airflow)")
    p.add_argument("--port", type=int, help="the api-server's port (default $WARTA_PORT, else 8080)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("env", help="shell exports for this CLI against the stack: eval \"$(warta env)\"")
    p.add_argument("--home", help="the stack's data (default as for serve)")
    p.add_argument("--port", type=int, help="the api-server's port (default as for serve)")
    p.set_defaults(func=cmd_env)

    p = sub.add_parser("status", help="the running stack's components: state, uptime, restarts")
    p.add_argument("--home", help="the stack's home (default $AIRFLOW_HOME, else .dev/airflow)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("report", help="the monthly report: make a month's report final (the Operator)")
    p.add_argument("action", choices=["finalise"])
    p.add_argument("month", help="YYYY-MM")
    p.add_argument("--as", dest="actor")
    p.add_argument("--lang", choices=["id", "en"])
    p.add_argument("--reason", help="required for a correction of a final report (a new revision)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("outbox", help="start the Airflow runs queued in the editorial DB")
    p.add_argument("action", choices=["serve", "drain"], help="serve: forever (a stack component); drain: once")
    p.add_argument("--poll-seconds", type=float, default=0.5, help="serve: pause between drains when idle")
    p.add_argument("--heartbeat-file", help="serve: touch this file after every drain (for a healthcheck)")
    p.add_argument("--concurrency", type=int, default=CONCURRENCY,
                   help=f"serve, drain: runs started at once (default {CONCURRENCY}; 1 if Airflow is on SQLite)")
    p.set_defaults(func=cmd_outbox)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from warta.airflow_api import AirflowApiError
    from warta.config import ConfigError, get_config
    from warta.storage import StorageError

    if args.command == "serve":  # runs until stopped; its exit code is the answer
        return cmd_serve(args)
    try:
        result = args.func(args)
    except (CliError, WorkflowError, AirflowApiError, ConfigError, StorageError) as exc:
        print(f"warta: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, CliError) else 1
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        _print_human(args.command, result, get_config().timezone)
    return 0


if __name__ == "__main__":
    sys.exit(main())
