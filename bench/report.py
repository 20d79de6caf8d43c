"""Benchmark: compile and render the monthly report of a busy month.

Seeds a throwaway SQLite editorial DB with N items (default 100,000) spread over one
month, published on several channels, with revision rounds, rejections, steps over their
standard time, failed online checks and items still in progress at month end; then
compiles the report and renders HTML, PDF and XLSX, and prints the seconds and the peak
memory of doing so.

The seeding runs in a child process, so the peak memory (ru_maxrss) printed is the
report's own: imports, compile and render. The workbook and the PDF's annex are made in
two forked children beside the PDF's body, as warta.report.build_files does; their peaks
are printed apart, and cpu_s adds the three processes' CPU seconds.

    .venv/bin/python bench/report.py [--items 100000] [--month 2026-10] [--keep DIR [--reuse]] [--postgres]

With --postgres the editorial DB is the embedded PostgreSQL of warta.stack (the stack's
default), started by the bench on a data folder inside DIR and stopped at the end.

The last line holds the figures as key=value pairs. Target: 100,000 items (every one in
the PDF, its compact annex) compiled and rendered in ≤ 8 s and ≤ 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from warta.config import Channel, WartaConfig, get_config

CHANNELS = {
    "website": ("Website", "wordpress"),
    "facebook": ("Facebook", "facebook_page"),
    "instagram": ("Instagram", "instagram"),
    "x": ("X", "x"),
}
REPORTERS = ("pelaksana", "pelaksana2")
CHUNK = 5000


def bench_config() -> WartaConfig:
    """The repository's SOP with four publishing channels."""
    config = get_config()
    channels = {
        channel_id: Channel(channel_id, name, name, kind, f"warta_{channel_id}", default=(channel_id == "website"))
        for channel_id, (name, kind) in CHANNELS.items()
    }
    return replace(config, channels=channels)


def timing_row(rng: random.Random, item_id: int, step, round_number: int, start: datetime, *, ended: bool = True,
               late: bool = False) -> tuple[dict, datetime]:
    """A step timing: within its standard time, or 5% to 4x over it when ``late``."""
    standard = int(step.standard_time.total_seconds())
    duration = standard * (rng.uniform(1.05, 4.0) if late else rng.uniform(0.05, 0.95))
    end = start + timedelta(seconds=duration)
    row = {
        "item_id": item_id, "round": round_number, "step_id": step.id, "started_at": start,
        "ended_at": end if ended else None, "standard_seconds": standard,
        "duration_seconds": duration if ended else None,
        "within_standard": (duration <= standard) if ended else None,
    }
    return row, end


def seed(url: str, items: int, month_key: str, seed_value: int = 5) -> None:
    """Insert ``items`` items with their records, timings, posts and checks (bulk inserts)."""
    from sqlalchemy import insert

    from warta import db
    from warta.models import NewsItem, OnlineCheck, Publication, StepRecord, StepTiming
    from warta.report.period import ReportMonth

    config = bench_config()
    month = ReportMonth.parse(month_key, config.timezone)
    rng = random.Random(seed_value)
    db.upgrade(url)
    sessions = db.session_factory(url)
    services = list(config.services)
    steps = config.steps
    decision = config.decision_step
    human_rounds = [s for s in steps if s.is_human and not s.once_per_item]
    automatic = [s for s in steps if not s.is_human]
    first = steps[0]
    span = (month.end - month.start).total_seconds()
    # Items arrive over the month in id order, as they do in the desk.
    arrivals = sorted(rng.uniform(0, span * 0.97) for _ in range(items))
    item_id = publication_id = 0
    for chunk_start in range(0, items, CHUNK):
        rows = {NewsItem: [], StepRecord: [], StepTiming: [], Publication: [], OnlineCheck: []}
        for _ in range(min(CHUNK, items - chunk_start)):
            item_id += 1
            created = month.start + timedelta(seconds=arrivals[item_id - 1])
            author = rng.choice(REPORTERS)
            rounds = rng.choices((1, 2, 3), weights=(85, 12, 3))[0]
            # About 2% are still waiting somewhere at month end.
            stuck_at = rng.choice([s for s in steps[1:]]) if rng.random() < 0.02 else None
            channels = ["website"] + [c for c in ("facebook", "instagram", "x") if rng.random() < 0.4]
            moment = created
            current, status, done = None, "in_progress", False

            plan = [(first, 1)]
            for round_number in range(1, rounds + 1):
                plan += [(s, round_number) for s in human_rounds]
            plan += [(s, rounds) for s in automatic]
            for step, round_number in plan:
                if step is stuck_at and round_number == rounds:
                    rows[StepTiming].append(timing_row(rng, item_id, step, round_number, moment, ended=False)[0])
                    current = step.id
                    break
                row, end = timing_row(rng, item_id, step, round_number, moment, late=rng.random() < 0.08)
                rows[StepTiming].append(row)
                rejected = step is decision and round_number < rounds
                rows[StepRecord].append({
                    "item_id": item_id, "round": round_number, "step_id": step.id,
                    "actor": author if step.role == "pelaksana_kegiatan" else
                    ("operator" if step.role == "operator" else "subkoor"),
                    "role": step.role, "decision": "rejected" if rejected else (
                        "approved" if step is decision else "done"),
                    "reason": "Lengkapi kutipan narasumber dan foto kegiatan" if rejected else "",
                    "recorded_at": end,
                })
                if step.kind == "publish":
                    for channel in channels:
                        publication_id += 1
                        published_at = end - timedelta(seconds=rng.uniform(1, 30))
                        rows[Publication].append({
                            "id": publication_id, "item_id": item_id, "channel": channel, "status": "published",
                            "marker": f"warta-{item_id}-{channel}", "remote_id": str(publication_id),
                            "url": f"https://{channel}.example.go.id/berita/{item_id}", "attempts": 1, "error": "",
                            "details": {}, "created_at": published_at, "published_at": published_at,
                        })
                        ok = rng.random() > 0.01
                        rows[OnlineCheck].append({
                            "item_id": item_id, "publication_id": publication_id, "channel": channel, "ok": ok,
                            "http_status": 200 if ok else 404, "evidence": {}, "checked_at": published_at,
                        })
                moment = end + timedelta(seconds=rng.uniform(5, 600))
            else:
                done, current, status = True, "selesai", "done"
            if not done:
                status = "publishing" if current in {s.id for s in automatic} else "in_progress"
            rows[NewsItem].append({
                "id": item_id, "title": f"Kegiatan {services[item_id % len(services)]} nomor {item_id}: "
                f"kunjungan dan bimbingan teknis budidaya",
                "activity_date": created.date(), "place": "Pangkalpinang",
                "service": rng.choice(services), "notes": "", "channels": channels, "current_step": current,
                "round": rounds, "status": status, "created_by": author, "created_at": created,
                "updated_at": moment, "submission_key": None, "dag_id": config.dag_id,
            })
        with sessions() as session:
            for model in (NewsItem, StepRecord, StepTiming, Publication, OnlineCheck):
                if rows[model]:
                    session.execute(insert(model), rows[model])
            session.commit()
    db.dispose_all()


def pdf_pages(pdf: bytes) -> int | None:
    """Pages of the PDF, by poppler's pdfinfo (the objects are compressed, so not by grep)."""
    try:
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    return next((int(line.split()[-1]) for line in info.splitlines() if line.startswith("Pages:")), None)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--lang", default="id", choices=("id", "en"))
    parser.add_argument("--keep", type=Path, help="keep the DB and the rendered files in this folder")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: use the DB seeded there by an earlier run (same --items and --month)")
    parser.add_argument("--postgres", action="store_true",
                        help="the editorial DB on an embedded PostgreSQL (data in the folder), as the embedded "
                             "stack has it, instead of a SQLite file")
    parser.add_argument("--seed-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.seed_only, args.items, args.month)
        return

    folder = args.keep or Path(tempfile.mkdtemp(prefix="warta-bench-report-"))
    folder.mkdir(parents=True, exist_ok=True)
    postgres = None
    if args.postgres:
        postgres, url, seeded_marker = start_postgres(folder)
        fresh = not (args.reuse and args.keep and seeded_marker.exists())
        if fresh:
            reset_postgres_database(url)
    else:
        database = folder / "editorial.db"
        url = f"sqlite:///{database}"
        fresh = not (args.reuse and args.keep and database.exists())
        if fresh:
            database.unlink(missing_ok=True)
    try:
        run(args, folder, url, fresh)
    finally:
        if postgres is not None:
            postgres.terminate()
            postgres.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)  # the seeded DB is a few hundred MB
    if args.postgres and args.keep:
        seeded_marker.touch()


def start_postgres(folder: Path):
    """The embedded PostgreSQL of warta.stack on a data folder inside ``folder``, started
    here (supervisord starts it in the stack); returns (process, URL, seeded marker)."""
    from warta.stack import EmbeddedPostgres

    server = EmbeddedPostgres(folder / "postgres")
    server.initialise()
    process = subprocess.Popen(server.command(), user=server.system_user, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    server.wait_ready()
    server.create_databases(("warta_bench",))
    return process, server.url("warta_bench"), folder / "postgres-seeded"


def reset_postgres_database(url: str) -> None:
    """An empty editorial DB for a new seeding: its schema dropped and made again."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def run(args, folder: Path, url: str, fresh: bool) -> None:
    if fresh:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, __file__, "--items", str(args.items), "--month", args.month, "--seed-only", url],
            check=True,
        )
        print(f"seeded {args.items} items into {url} in {time.monotonic() - started:.1f} s", flush=True)

    seeding = resource.getrusage(resource.RUSAGE_CHILDREN)
    seed_cpu = seeding.ru_utime + seeding.ru_stime
    begin = time.monotonic()
    # CPU seconds as well as wall seconds: on a shared machine the wall clock mostly measures
    # the neighbours; the report's work is one CPU-bound process.
    cpu_begin = time.process_time()
    from warta import db
    from warta.report.compile import compile_report
    from warta.report.period import ReportMonth
    from warta.report.render import (
        Beside,
        drawn_annex,
        preload_pdf_engine,
        render_html,
        render_pdf,
        render_xlsx,
        unpickle_annex,
    )
    from warta.report.settings import load_report_settings

    config = bench_config()
    settings = load_report_settings()
    month = ReportMonth.parse(args.month, config.timezone)
    imported = time.monotonic()
    # As warta.report.build_and_store does: WeasyPrint is imported while the report compiles.
    pdf_engine_loaded = preload_pdf_engine()
    with db.session_factory(url)() as session:
        report = compile_report(session, config, month, settings, generated_at=datetime.now(timezone.utc),
                                parallel=True)
    pdf_engine_loaded()
    compiled = time.monotonic()
    compile_cpu = time.process_time() - cpu_begin
    # As warta.report.build_files does: the workbook and the annex in forked children,
    # the PDF's body here.
    workbook = Beside(render_xlsx, report, config, settings, args.lang)
    annex = Beside(drawn_annex, report, config, settings, args.lang)
    html = render_html(report, config, settings, args.lang)
    printed = render_html(report, config, settings, args.lang, for_print=True)
    html_done = time.monotonic()
    pdf = render_pdf(printed, lambda: unpickle_annex(annex.result()))
    pdf_done = time.monotonic()
    html_pdf_cpu = time.process_time() - cpu_begin - compile_cpu
    xlsx = workbook.result()
    xlsx_done = time.monotonic()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    annex_cpu = annex.cpu_s
    if args.keep:
        for suffix, data in (("html", html.encode()), ("pdf", pdf), ("xlsx", xlsx)):
            (folder / f"laporan-{month.key}.{suffix}").write_bytes(data)
    figures = {
        "items": args.items,
        "items_in_report": len(report.items),
        "import_s": round(imported - begin, 2),
        "compile_s": round(compiled - imported, 2),
        "html_s": round(html_done - compiled, 2),
        "pdf_s": round(pdf_done - html_done, 2),
        "xlsx_wait_s": round(xlsx_done - pdf_done, 2),
        "render_s": round(xlsx_done - compiled, 2),
        "total_s": round(xlsx_done - begin, 2),
        # This process and the workbook's child together (the seeding child is excluded).
        "cpu_s": round(time.process_time() - cpu_begin + child.ru_utime + child.ru_stime - seed_cpu, 2),
        "compile_cpu_s": round(compile_cpu, 2),
        "html_pdf_cpu_s": round(html_pdf_cpu, 2),
        "annex_cpu_s": round(annex_cpu, 2),
        "xlsx_cpu_s": round(workbook.cpu_s, 2),
        "peak_rss_mib": round(peak_rss_mib()),
        "xlsx_child_peak_rss_mib": round(workbook.peak_rss_kib / 1024),
        "annex_child_peak_rss_mib": round(annex.peak_rss_kib / 1024),
        "pdf_kib": len(pdf) // 1024,
        "pdf_pages": pdf_pages(pdf),
        "xlsx_kib": len(xlsx) // 1024,
    }
    db.dispose_all()
    figures["db"] = "postgresql" if args.postgres else "sqlite"
    # The machine's load while this ran: on a shared machine the wall clock measures the
    # neighbours too (the CPU seconds less so).
    figures["load_1min"] = round(os.getloadavg()[0], 2)
    print(" ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
