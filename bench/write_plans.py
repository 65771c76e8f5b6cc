"""Every SQL statement the bulk import and the delivery run, with its plan on the database as it is: are the
uniqueness and linkage checks on indexes when a million records are already there?

    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/write_plans.py \
        --database-url postgres://postgres@127.0.0.1:5432/YOUR_COPY [--projects 100] [--records 20]

The database is used as it is, its rows kept: a copy of a database seeded by bench/seed_records.py and
bench/seed_stages.py, once per copy (the import's clerk is made anew, as in bench/import_projects.py). In this
process: an import of --projects projects × 6 stages (bench/import_projects.py's workbook; imports.services.run_job,
the worker's code); then --records records prepared as bench/delivery.py prepares them (made, approved, their
notices closed: each gets its outbox message), checked again as a submission checks them (projects.rules.evaluate)
and delivered one by one to the simulator (publicity.services.deliver, the worker's code). Every statement is
captured (Django's execute_wrapper) and grouped by its shape (values left out); for each shape, its count per
project or record and the plan of its last instance, run again with EXPLAIN (ANALYZE, BUFFERS) inside a
transaction rolled back (an INSERT's plan without ANALYZE: run again it would meet its own row). A plan with a
sequential scan (of a table small in this database, such as the outbox) is shown again with sequential scans off:
the index that would serve it on a large table, or "<< NO INDEX" where a filtered sequential scan remains. A
sequential scan of a table of more than SEQ_SCAN_ROWS rows is marked "<< SEQ SCAN", a statement touching more than
MANY_BUFFERS buffers a value it looks up (a batch's list counted value by value) "<< BUFFERS".
"""

import argparse
import collections
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import delivery  # noqa: E402 (after the path)

SEQ_SCAN_ROWS = 10_000
MANY_BUFFERS = 20
NOT_EXPLAINED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET", "SHOW")


def shape(sql: str) -> str:
    """A statement with its values left out, so that one per row groups as one."""
    sql = re.sub(r"%s(, %s)+", "…", sql)
    sql = re.sub(r"\((…|%s)\)(, \((…|%s)\))+", "(…), …", sql)
    sql = re.sub(r'"s\d+_x\d+"', '"s?"', sql)  # savepoint names
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"\b\d+\b", "?", sql)


class Recorder:
    """Django's execute_wrapper: each statement's SQL and parameters, under the phase being run."""

    def __init__(self):
        self.phase = None
        self.statements = collections.defaultdict(list)  # (phase, shape) -> [(sql, params)]

    def __call__(self, execute, sql, params, many, context):
        if self.phase:
            self.statements[self.phase, shape(sql)].append((sql, params, many))
        return execute(sql, params, many, context)


def table_rows() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r'")
        return dict(cursor.fetchall())


def plan(sql: str, params, *, seqscan=True) -> list[str]:
    """EXPLAIN of the statement with these parameters, run again and rolled back (ANALYZE but for an INSERT);
    with `seqscan` False, as the planner would run it were every table large (sequential scans off)."""
    from django.db import DatabaseError, connection, transaction

    analyze = not sql.lstrip().upper().startswith("INSERT")
    options = "ANALYZE, BUFFERS, SUMMARY OFF" if analyze else "COSTS OFF"
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if not seqscan:
                cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN ({options}) {sql}", params)
            lines = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
    except DatabaseError as error:
        return [f"(not explained: {str(error).splitlines()[0]})"]
    return lines


def scans(lines: list[str]) -> list[str]:
    """The plan's scan nodes, each with the condition or filter under it."""
    found = []
    for number, line in enumerate(lines):
        node = re.search(r"((?:Parallel )?(?:Seq|Index|Index Only|Bitmap Index|Bitmap Heap) Scan[^(]*)", line)
        if node:
            detail = lines[number + 1].strip() if number + 1 < len(lines) else ""
            condition = detail if detail.startswith(("Filter", "Index Cond", "Recheck Cond")) else ""
            found.append(f"{node.group(1).strip()} {condition[:160]}".strip())
    return found


def unindexed(lines: list[str]) -> list[str]:
    """Tables a sequential scan with a filter reads even with sequential scans off: no index serves it."""
    return [
        re.search(r"Seq Scan on (\w+)", line).group(1)
        for number, line in enumerate(lines)
        if "Seq Scan on" in line
        and number + 1 < len(lines)
        and lines[number + 1].strip().startswith("Filter")
    ]


def marks(lines: list[str], rows: dict[str, int], params) -> list[str]:
    found = []
    for line in lines:
        seq = re.search(r"Seq Scan on (\w+)", line)
        if seq and rows.get(seq.group(1), 0) > SEQ_SCAN_ROWS:
            found.append(f"<< SEQ SCAN on {seq.group(1)} ({rows[seq.group(1)]} rows)")
    touched = [
        sum(int(n) for n in re.findall(r"(?:hit|read|dirtied|written)=(\d+)", line))
        for line in lines
        if line.strip().startswith("Buffers:")
    ]
    values = sum(len(p) if isinstance(p, list | tuple) else 1 for p in params or ())
    if touched and touched[0] > MANY_BUFFERS * max(values, 1):  # the top node's include its children's
        found.append(f"<< BUFFERS {touched[0]} for {values} values")
    return found


def run_import(projects: int, recorder: Recorder) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from import_projects import workbook_of

    from imports import services
    from projects.audit import Actor
    from projects.models import BackfillWindow, EnterpriseKind
    from projects.reference import load_authorities

    load_authorities()  # as bench/import_projects.py sets up
    for kind in EnterpriseKind.values:
        BackfillWindow.objects.update_or_create(
            enterprise_kind=kind, defaults={"opens_on": "2018-01-01", "closes_on": "2099-12-31"}
        )
    clerk, data = workbook_of(projects)
    job = services.start_import(actor=Actor(user=clerk), workbook=SimpleUploadedFile("bench.xlsx", data))
    recorder.phase = "import"
    job = services.run_job(job.pk)
    recorder.phase = None
    print(f"import: {job.message}")
    return job.created_count


def run_deliveries(records: int, tmp_path: Path, recorder: Recorder) -> int:
    from django.conf import settings

    from projects import rules
    from publicity import services
    from publicity.models import OutboxMessage
    from tests.simulator_process import API_KEY, running_simulator

    recorder.phase = "approval and close"
    ids = delivery.prepare(records)
    recorder.phase = None
    # The checks a submission runs (projects.services.submit_project: rules.evaluate, the stage document numbers
    # among them), asked again of the records made: make_records writes them submitted without asking.
    recorder.phase = "submission checks"
    for project_id in OutboxMessage.objects.filter(pk__in=ids).values_list("project_id", flat=True):
        rules.evaluate(rules.load_project(project_id))
    recorder.phase = None
    with running_simulator(tmp_path / "simulator") as base_url:
        settings.NATIONAL_PLATFORM_URL = base_url
        settings.NATIONAL_PLATFORM_API_KEY = API_KEY
        recorder.phase = "delivery"
        results = collections.Counter(services.deliver(message_id) for message_id in ids)
        recorder.phase = None
    print(f"deliveries: {dict(results)}")
    return results["delivered"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of yours: written, kept")
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--records", type=int, default=20)
    options = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed, e.g. redis://127.0.0.1:6379/9")
    options.keep_database, options.sweep_seconds = True, 60
    os.environ["IMPORT_MAX_ROWS"] = str(max(options.projects, 2000))
    tmp_path = Path(tempfile.mkdtemp(prefix="bench-write-plans-"))
    delivery.setup(options, tmp_path)
    from django.db import connection

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        per = {"import": run_import(options.projects, recorder)}
        per["delivery"] = run_deliveries(options.records, tmp_path, recorder)
    rows = table_rows()
    print(
        f"\nprojects in the database: {rows.get('projects_project', 0)}; load average {os.getloadavg()[0]:.2f}"
    )
    flagged = 0
    per["approval and close"] = per["submission checks"] = per["delivery"]
    phases = ("import", "new project"), ("approval and close", "record"), ("submission checks", "record")
    for phase, unit in (*phases, ("delivery", "record")):
        shapes = [(key[1], found) for key, found in recorder.statements.items() if key[0] == phase]
        total = sum(len(found) for _shape, found in shapes)
        print(
            f"\n======== {phase}: {total} statements, {total / max(per[phase], 1):.2f} a {unit} ({per[phase]})"
        )
        for number, (statement, found) in enumerate(shapes, start=1):
            print(
                f"\n[{phase} {number}] {len(found)}× ({len(found) / max(per[phase], 1):.2f} a {unit}): {statement[:600]}"
            )
            sql, params, many = found[-1]
            if many or statement.split(None, 1)[0].upper() in NOT_EXPLAINED:
                continue
            lines = plan(sql, params)
            for line in lines:
                print(f"    {line}")
            for mark in marks(lines, rows, params):
                flagged += 1
                print(f"    {mark}")
            if any("Seq Scan" in line for line in lines):  # a small table here: which index would serve it?
                forced = plan(sql, params, seqscan=False)
                print("    with sequential scans off: " + "; ".join(scans(forced)))
                for table in unindexed(forced):
                    flagged += 1
                    print(f"    << NO INDEX serves the filter on {table} ({rows.get(table, 0)} rows here)")
    print(f"\n{flagged} marks (sequential scans of large tables, > {MANY_BUFFERS} buffers a value, no index)")


if __name__ == "__main__":
    main()
