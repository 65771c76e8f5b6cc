"""What the audit chain head's lock costs: audited writes per second with 1, 5 and 20 concurrent writers (a script,
not a test; see bench/README.md).

    env -u DATABASE_URL .venv/bin/python bench/audit_chain.py --seconds 10

Each writer is a process of its own (its own database connection, no shared interpreter lock), looping for
--seconds: one transaction that updates a row of its own and appends one event with `projects.audit.record()`, which
takes the chain head (`AuditChainHead`, SELECT … FOR UPDATE) and holds it until the commit. In the same run, the
bare write: the same transaction with the same event inserted without the chain head (what the writes would cost
if they did not queue on one row). The database: DATABASE_URL or --database-url, default the PostgreSQL database
`bench_audit` on 127.0.0.1 (created if absent, migrated). The chain is verified at the end (the bare events are
outside it and are deleted first: the bench database only).
"""

import argparse
import multiprocessing
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_audit"


def setup(database_url: str):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="backfill_portal.settings",
        DATABASE_URL=database_url,
        DJANGO_SECRET_KEY=os.environ.get(
            "DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop"
        ),
    )
    import django

    django.setup()


def writer(database_url: str, mode: str, seconds: float, index: int, results):
    setup(database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from projects import audit
    from projects.models import AuditEvent

    user, _ = get_user_model().objects.get_or_create(username=f"bench-audit-{index}")
    actor = audit.Actor(user=user, ip_address="127.0.0.1")
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction.atomic():
            get_user_model().objects.filter(pk=user.pk).update(last_name=str(count % 1000))
            if mode == "chained":
                audit.record(actor, "bench.write", user, message="基准测试")
            else:
                AuditEvent.objects.create(
                    actor=user, actor_username=user.username, action="bench.bare", object_type="user",
                    object_id=str(user.pk), message="基准测试", previous_hash="", hash=secrets.token_hex(32),
                )  # fmt: skip
        count += 1
    connection.close()
    results.put(count)


def measure(database_url: str, mode: str, writers: int, seconds: float) -> float:
    results = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=writer, args=(database_url, mode, seconds, index, results))
        for index in range(writers)
    ]
    for process in processes:
        process.start()
    total = sum(results.get(timeout=seconds + 120) for _ in processes)
    for process in processes:
        process.join()
    return total / seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", default="1,5,20")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    args = parser.parse_args()
    from notice_pages import ensure_database  # bench/notice_pages.py, next to this file

    ensure_database(args.database_url, fresh=False)
    setup(args.database_url)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    connection.close()  # the writers are forked: none may inherit this connection
    print(f"{os.cpu_count()} CPUs shared by PostgreSQL and the writers; {args.seconds:g} s per measure")
    print(f"{'writers':>8} {'bare w/s':>10} {'chained w/s':>12} {'ratio':>6}")
    for writers in (int(n) for n in args.writers.split(",")):
        bare = measure(args.database_url, "bare", writers, args.seconds)
        chained = measure(args.database_url, "chained", writers, args.seconds)
        print(f"{writers:>8} {bare:>10.0f} {chained:>12.0f} {chained / bare:>6.2f}", flush=True)

    from projects import audit
    from projects.models import AuditEvent

    with connection.cursor() as cursor:  # the bare events are outside the chain (the bench database only)
        cursor.execute("ALTER TABLE projects_auditevent DISABLE TRIGGER USER")
        AuditEvent.objects.filter(action="bench.bare").delete()
        cursor.execute("ALTER TABLE projects_auditevent ENABLE TRIGGER USER")
    report = audit.verify_chain()
    print(f"chain: {report.checked} events verified, intact: {report.intact}")


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
