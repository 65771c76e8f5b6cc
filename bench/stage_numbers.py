"""How a stage record number PrjNum-XX-nnn is issued (publicity.services.stage_record_numbers) on a database with
many numbers: the plans PostgreSQL picks, with EXPLAIN (ANALYZE, BUFFERS), and the time to issue numbers (a script,
not a test; see bench/README.md).

    env -u DATABASE_URL .venv/bin/python bench/stage_numbers.py --records 100000

Seeds N records (bench/seed_records.py, kept between runs) and gives every record in the national library its
stage record numbers (five each, as a delivery would; kept too), then, inside a transaction it rolls back, issues
the numbers of records that have none, capturing the queries and explaining the one that finds the next serial.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seed_records  # noqa: E402  (the seeding and Django setup)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_notice"

NUMBERS_SQL = """
INSERT INTO publicity_stagerecordnumber (project_id, stage, number, issued_at)
SELECT p.id, s.code, p.project_number || '-' || s.xx || '-001', now()
FROM projects_project p
CROSS JOIN (VALUES ('tendering', 'BD'), ('contract', 'HZ'), ('drawing_review', 'TX'), ('permit', 'SX'),
                   ('completion', 'JX')) AS s(code, xx)
WHERE p.status = 'in_national_library'
ON CONFLICT DO NOTHING
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--issue", type=int, default=50, help="records given their numbers in the timed run")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--var-dir", default="/tmp/bench_stage_numbers_var")
    options = parser.parse_args()

    seed_records.ensure_database(options.database_url, fresh=False)
    seed_records.setup_django(options.database_url, options.var_dir)
    seed_records.seed(options.records)

    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from projects.models import Project
    from publicity import services
    from publicity.models import StageRecordNumber

    with connection.cursor() as cursor:
        cursor.execute(NUMBERS_SQL)
        cursor.execute("ANALYZE publicity_stagerecordnumber")
    print(f"{StageRecordNumber.objects.count()} stage record numbers; load average {os.getloadavg()[0]:.2f}")

    projects = list(Project.objects.exclude(status="in_national_library").order_by("id")[: options.issue])
    content = {"stages": {code: {} for code in ("drawing_review", "permit", "completion")}}
    with transaction.atomic():
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            for project in projects:
                services.stage_record_numbers(project, {**content, "project_number": project.project_number})
        elapsed = time.perf_counter() - started
        serial = [
            q["sql"]
            for q in queries.captured_queries
            if "LIKE" in q["sql"] or "stagerecordnumber" in q["sql"]
        ]
        lookup = next(
            sql for sql in serial if "number" in sql and 'project_id" =' not in sql and "INSERT" not in sql
        )
        print(f"{len(projects)} records × 3 stages numbered in {elapsed * 1000:.0f} ms "
              f"({len(queries.captured_queries)} queries)")  # fmt: skip
        print(f"the next serial: {lookup}")
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {lookup}")
            print("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
