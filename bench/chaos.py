"""The chaos run at full scale (a script, not a test; see bench/README.md and tests/chaos.py for the timeline).

    .venv/bin/python bench/chaos.py                                  # 1,000 records, a 20-minute outage
    .venv/bin/python bench/chaos.py --records 300 --outage-seconds 120 --backoff-base 1 --backoff-max 30

Everything real, each a process of its own: a Redis of its own on a free loopback port (broker and cache; stopped
and started again mid-outage), a Celery worker (SIGKILLed twice) and beat (stopped across the notices' end), gunicorn
with 2 workers serving the public pages (sampled every second), the national platform's simulator (failing
--error-rate of the calls with --latency-ms, then all of them for --outage-seconds). The database: DATABASE_URL or
--database-url, default the PostgreSQL database `bench_chaos` on 127.0.0.1 (dropped and created afresh, migrated).
The backoff is the production default (5 s base, 1 h cap) unless shortened; the policy is the same code.

The last line printed: `records N entered N lost 0 doubled 0 stuck 0 max_delay_s X` (max_delay_s: the longest
time from a notice's end to its record's entry into the library).
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_chaos"


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--outage-seconds", type=float, default=1200)
    parser.add_argument("--redis-down-seconds", type=float, default=30)
    parser.add_argument("--error-rate", type=float, default=0.5)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--backoff-base", type=float, default=5.0, help="OUTBOX_BACKOFF_BASE_SECONDS")
    parser.add_argument("--backoff-max", type=float, default=3600.0, help="OUTBOX_BACKOFF_MAX_SECONDS")
    parser.add_argument("--concurrency", type=int, default=4, help="the worker's processes")
    parser.add_argument(
        "--settle-seconds",
        type=float,
        default=None,
        help="wait for the rest (default: the outage + 3 × --backoff-max: after a long outage a message waits up to "
        "the cap between attempts, and half of the attempts still fail)",
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    return parser.parse_args()


def main():
    args = arguments()
    from notice_pages import ensure_database  # bench/notice_pages.py, next to this file

    ensure_database(args.database_url, fresh=True)  # the builders' numbers start again in each process
    tmp_path = Path(tempfile.mkdtemp(prefix="bench-chaos-"))

    from tests.redis_process import RedisServer, free_port

    redis_server = RedisServer(tmp_path / "redis").start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backfill_portal.settings",
        "DJANGO_SECRET_KEY": os.environ.get(
            "DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop"
        ),
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_HSTS_SECONDS": "0",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": redis_server.url(),
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",  # no notices printed to the console
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    from tests.chaos import ChaosRun, Plan, old_retry_budget
    from tests.processes import FAST_TIMINGS, CeleryStack
    from tests.simulator_process import API_KEY, SimulatorClient, running_simulator

    call_command("migrate", verbosity=0)
    plan = Plan(
        records=args.records,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
        outage_seconds=args.outage_seconds,
        redis_down_seconds=args.redis_down_seconds,
        settle_seconds=args.settle_seconds or args.outage_seconds + 3 * args.backoff_max,
        concurrency=args.concurrency,
        backoff_base=args.backoff_base,
        backoff_max=args.backoff_max,
    )
    print(
        f"plan: {plan}; the old 8-attempt budget at this backoff: "
        f"{old_retry_budget(plan.backoff_base, plan.backoff_max):.0f} s",
        flush=True,
    )
    try:
        with running_simulator(tmp_path / "simulator") as base_url:
            process_env = {
                **env,
                **FAST_TIMINGS,  # lease, sweep and HTTP timeout; the backoff is the plan's (ChaosRun)
                "NATIONAL_PLATFORM_URL": base_url,
                "NATIONAL_PLATFORM_API_KEY": API_KEY,
            }
            stack = CeleryStack(tmp_path=tmp_path, env=process_env)
            try:
                outcome = ChaosRun(
                    plan,
                    stack=stack,
                    simulator=SimulatorClient(base_url),
                    redis_server=redis_server,
                    web_env=process_env,
                    web_port=free_port(),
                    tmp_path=tmp_path,
                    say=lambda line: print(line, flush=True),
                ).run()
            finally:
                stack.stop_all()
    finally:
        redis_server.stop()
    print(f"public pages: {outcome.page_samples} samples, {outcome.page_failures} failures")
    for failure in outcome.failures[:20]:
        print(f"  {failure}")
    print(f"logs in {tmp_path}")
    print(outcome.last_line())


if __name__ == "__main__":
    main()
