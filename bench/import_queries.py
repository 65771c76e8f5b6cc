"""The bulk import's SQL per new project, and where its time goes: a deterministic figure for a busy machine.

    .venv/bin/python bench/import_queries.py --database NAME [--projects 100] [--profile]

Runs the job in this process (imports.services.run_job, the code the worker runs) on PostgreSQL (the database is
created and migrated if absent, as bench/import_projects.py does), with every query captured, and prints the
queries per new project (the job's own queries, less the creation of the workbook's upload) and the commonest
statements. `--profile` also prints pyinstrument's profile of the job. The worker's wall time is
bench/import_projects.py's.
"""

import argparse
import collections
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from import_projects import setup, workbook_of  # noqa: E402 (after the path)


def shape(sql: str) -> str:
    """A statement with its values left out, so that one per row groups as one."""
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', '"s?"', sql)  # savepoint names
    sql = re.sub(r"\b\d+\b", "?", sql)
    sql = re.sub(r"\((?:\?, )+\?\)", "(…)", sql)
    return sql[:150]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument(
        "--database", required=True, help="PostgreSQL database on 127.0.0.1, yours: dropped and made again"
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    setup(args.database, fresh=True, projects=args.projects)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from imports import services
    from projects.audit import Actor

    clerk, data = workbook_of(args.projects)
    job = services.start_import(actor=Actor(user=clerk), workbook=SimpleUploadedFile("bench.xlsx", data))
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        job = services.run_job(job.pk)
    seconds = time.perf_counter() - started
    if profiler:
        profiler.stop()
    queries = captured.captured_queries
    created = job.created_count
    print(f"job: {job.message} in {seconds:.1f}s (in process, this machine's load: see uptime)")
    print(
        f"queries: {len(queries)} in all, {len(queries) / max(created, 1):.2f} per new project ({created} new)"
    )
    counts = collections.Counter(shape(q["sql"]) for q in queries)
    for statement, n in counts.most_common(40):
        print(f"{n:6d}  {n / max(created, 1):5.2f}/project  {statement}")
    if profiler:
        print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
