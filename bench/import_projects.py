"""The bulk import at volume, through the real task path: a workbook of N projects × 6 stages (5 % with an
error), uploaded as a clerk would, imported by a real `celery worker` on Redis against PostgreSQL.

    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/import_projects.py [--projects 1000] [--fresh]

Prints the time to merely read the workbook (imports.reading, with python-calamine; and openpyxl's read-only mode
for comparison), the import's wall time until the job is done and projects per second, when the annotated copy
was stored, and the worker's peak RSS (VmHWM of the worker and its pool child). Database `bench_import` (or --database) on
127.0.0.1 (created and migrated if absent; --fresh drops it first; without it the rows there are kept, e.g. a copy
of the million-record seed: once per database, the clerk's enterprise is made anew each run). Goal (docs/import.md): 1,000 projects in
≤ 60 s, peak RSS ≤ 300 MB, the import ≤ 4× the read time.
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_rss_mb(pid: int) -> float:
    """The largest VmHWM among the process and its children (the prefork pool child does the work)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    peak = 0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except FileNotFoundError:
            pass
    return peak / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and its children so far (a figure a loaded machine changes less
    than wall time: the 2 cores are shared)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    ticks = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, IndexError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def openpyxl_read(data: bytes) -> int:
    from openpyxl import load_workbook

    from imports import layout

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    rows = sum(1 for _values in workbook[layout.SHEET].iter_rows(values_only=True))
    workbook.close()
    return rows


def job_results(job):
    from imports.models import ImportJob

    return ImportJob.objects.values_list("results", flat=True).get(pk=job.pk)


def setup(database: str, *, fresh: bool, projects: int) -> str:
    """Create (or with `fresh` recreate) and migrate the PostgreSQL database `database`, set Django up on it with
    DEBUG off and files in a folder of this run, load the authorities and open the windows. Returns its URL."""
    DATABASE = database
    admin = "postgres://postgres@127.0.0.1:5432/postgres"
    url = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if exists and fresh:
            connection.execute(f"DROP DATABASE {DATABASE}")
            exists = None
        if not exists:
            connection.execute(f"CREATE DATABASE {DATABASE}")
    os.environ["DATABASE_URL"] = url
    # Files (the upload, the annotated copy) in a folder of this run, for the worker too: never the demo's var/.
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="bench-import-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backfill_portal.settings")
    # DEBUG off, as in production (DEBUG would keep every query in memory), with a key of the bench's own: the
    # settings refuse the demo key when DEBUG is off.
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-on-loopback-0123456789abcdef")
    os.environ["IMPORT_MAX_ROWS"] = str(max(projects, 2000))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from seed_records import continue_builders_sequence

    from projects.models import BackfillWindow, EnterpriseKind
    from projects.reference import load_authorities

    load_authorities()
    continue_builders_sequence()  # a database kept with its rows may hold builders' records already
    for kind in EnterpriseKind.values:
        BackfillWindow.objects.update_or_create(
            enterprise_kind=kind, defaults={"opens_on": "2018-01-01", "closes_on": "2099-12-31"}
        )
    return url


def workbook_of(projects: int):
    """A clerk and the workbook of `projects` clean projects of its enterprise, 5 % of them with a wrong amount."""
    from tests.builders import make_enterprise_user
    from tests.import_builders import fill, project_row

    clerk = make_enterprise_user()
    rows = []
    for n in range(projects):
        row = project_row(clerk.membership.enterprise)
        if n % 20 == 7:  # 5 %: a wrong amount
            row[("tendering", "award_amount")] = "abc"
        rows.append(row)
    started = time.perf_counter()
    data = fill(rows)
    print(
        f"generated {projects} projects × 6 stages in {time.perf_counter() - started:.1f}s, {len(data) / 1e6:.1f} MB"
    )

    return clerk, data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument(
        "--database", default="bench_import", help="PostgreSQL database on 127.0.0.1 (dropped by --fresh)"
    )
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed (the worker's broker), e.g. redis://127.0.0.1:6379/9")
    url = setup(args.database, fresh=args.fresh, projects=args.projects)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from imports import reading, services
    from imports.models import ImportJob, JobStatus
    from projects.audit import Actor

    clerk, data = workbook_of(args.projects)

    # The bare reference = "postgres://postgres@127.0.0.1:5432/postgres"
    # merely reading the workbook, with the reader the import uses (imports.reading: openpyxl
    # for the names and dimensions, python-calamine for the cells) and with openpyxl's read-only mode alone.
    started = time.perf_counter()
    sheet = reading.read_workbook(data, "bench.xlsx")
    read_seconds = time.perf_counter() - started
    print(f"read only (imports.reading, calamine): {read_seconds:.2f}s for {len(sheet.rows)} rows")
    started = time.perf_counter()
    openpyxl_rows = openpyxl_read(data)
    openpyxl_seconds = time.perf_counter() - started
    print(f"read only (openpyxl read-only, every cell): {openpyxl_seconds:.2f}s for {openpyxl_rows} rows")

    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "backfill_portal",
            "worker",
            "--concurrency=1",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"bench-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(5)
        cpu_before = cpu_seconds(worker.pid)
        # The import's time runs from the upload (start_import) to the job's own finished_at (services.finish), both
        # read from this machine's clock: the poll's moment would add up to its interval (0.2 s was ~8 % of an
        # import of 2.5 s). The poll is fine-grained only so that the worker's CPU time and RSS are read close to
        # the end.
        uploaded = timezone.now()
        started = time.perf_counter()
        job = services.start_import(actor=Actor(user=clerk), workbook=SimpleUploadedFile("bench.xlsx", data))
        peak = 0.0
        while True:
            state = ImportJob.objects.values("status", "processed").get(pk=job.pk)
            peak = max(peak, peak_rss_mb(worker.pid))
            cpu = cpu_seconds(worker.pid) - cpu_before
            if state["status"] in (JobStatus.DONE, JobStatus.FAILED):
                break
            time.sleep(0.05)
        seen_seconds = time.perf_counter() - started
        while not ImportJob.objects.filter(pk=job.pk).exclude(annotated="").exists():
            if time.perf_counter() - started > seen_seconds + 300 or not any(
                r["problems"] for r in job_results(job)
            ):
                break
            peak = max(peak, peak_rss_mb(worker.pid))
            time.sleep(0.2)
        annotated_seconds = time.perf_counter() - started
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=30)
    job.refresh_from_db()
    seconds = (job.finished_at - uploaded).total_seconds()
    print(
        f"import through the worker: {seconds:.2f}s (upload to the job's finished_at; the job itself "
        f"{(job.finished_at - job.started_at).total_seconds():.2f}s, started "
        f"{(job.started_at - uploaded).total_seconds():.2f}s after the upload began; the poll saw it done after "
        f"{seen_seconds:.2f}s), {args.projects / seconds:.1f} projects/s, peak worker RSS {peak:.0f} MB, "
        f"import/read = {seconds / read_seconds:.1f}× (calamine), {seconds / openpyxl_seconds:.1f}× (openpyxl)"
    )
    print(f"worker CPU time during the import: {cpu:.2f}s; load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"annotated copy stored {annotated_seconds - seen_seconds:.1f}s after the job was seen done")
    print(f"job: {job.message}")


if __name__ == "__main__":
    main()
