"""What the audit chains' head locks cost: audited writes per second with 1, 5 and 20 concurrent writers (a script,
not a test; see bench/README.md).

    env -u DATABASE_URL .venv/bin/python bench/audit_chain.py --seconds 10

Each writer is a process of its own (its own database connection, no shared interpreter lock), looping for
--seconds: one transaction that updates a row of its own and appends one event with `projects.audit.record()`, which
takes the head of the event's chain (`AuditChainHead`, SELECT … FOR UPDATE) and holds it until the commit
(docs/security.md, "The audit chains"). Measured, each writer writing:

- bare: the same transaction with the same event inserted without any chain (what the writes cost unchained);
- one project: events of one project shared by all the writers (one chain: they queue on its head, as every
  audited write in the portal did before the chains were split);
- own project: events of the writer's own project (a chain each: the portal's usual case, enterprises and
  reviewers working on different records);
- no project: events of no project (the writer's shard of AUDIT_CHAIN_SHARDS).

The database: DATABASE_URL or --database-url, default the PostgreSQL database `bench_audit` on 127.0.0.1 (created if
absent, migrated). The chains are anchored and verified at the end (the bare events are outside them and are
deleted first: the bench database only).
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


MODES = {"bare": "bare", "shared": "one project", "own": "own project", "shard": "no project"}


def writer(database_url: str, mode: str, seconds: float, index: int, results):
    setup(database_url)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from projects import audit
    from projects.models import AuditEvent, Project

    user = get_user_model().objects.get(username=f"bench-chain-{index}")
    actor = audit.Actor(user=user, ip_address="127.0.0.1")
    project = {"shared": 0, "own": index}.get(mode)
    if project is not None:
        project = Project.objects.get(name=f"审计链基准项目{project}")
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with transaction.atomic():
            get_user_model().objects.filter(pk=user.pk).update(last_name=str(count % 1000))
            if mode != "bare":
                audit.record(actor, "bench.write", user, project=project, message="基准测试")
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
    counts = [int(n) for n in args.writers.split(",")]
    writers_and_projects(max(counts))
    connection.close()  # the writers are forked: none may inherit this connection
    print(f"{os.cpu_count()} CPUs shared by PostgreSQL and the writers; {args.seconds:g} s per measure")
    print(f"load average before: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")
    print(f"{'writers':>8}" + "".join(f" {title + ' w/s':>16}" for title in MODES.values()))
    for writers in counts:
        rates = [measure(args.database_url, mode, writers, args.seconds) for mode in MODES]
        print(f"{writers:>8}" + "".join(f" {rate:>16.0f}" for rate in rates), flush=True)
    print(f"load average after: {' '.join(f'{n:.2f}' for n in os.getloadavg())}")

    from projects import audit

    with connection.cursor() as cursor:  # the bare events are outside the chains (the bench database only)
        cursor.execute("ALTER TABLE projects_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM projects_auditevent WHERE action = 'bench.bare'")
        cursor.execute("ALTER TABLE projects_auditevent ENABLE TRIGGER USER")
    audit.anchor()
    report = audit.verify_chain()
    print(f"chains: {report.checked} events verified, intact: {report.intact}")


def writers_and_projects(count: int):
    """A user per writer, and a project per writer (the first shared by all in the "one project" measure)."""
    from django.contrib.auth import get_user_model

    from projects.models import Authority, Project
    from projects.reference import load_authorities
    from tests.builders import make_enterprise_user, make_project

    load_authorities()
    authority = Authority.objects.get(code="500103")
    for index in range(count):
        name = f"审计链基准项目{index}"
        if Project.objects.filter(name=name).exists():
            continue
        user = get_user_model().objects.filter(username=f"bench-chain-{index}").first()
        user = user or make_enterprise_user(username=f"bench-chain-{index}")
        make_project(user.membership.enterprise, user, authority, stages=False, evidence=False, name=name)


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
