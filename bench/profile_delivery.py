"""Where one delivery's time goes, in-process: N records prepared as bench/delivery.py prepares them (approved, their
notices closed, each in `entering` with its outbox message), then `publicity.services.deliver` called on each in this
process against the simulator (python -m simulator, no faults), with the queries of each delivery counted and
pyinstrument over all of them. Deterministic figures (queries, round trips, commits a delivery) that a busy machine
does not change; the times it prints are those of the machine at the moment.

    REDIS_URL=redis://127.0.0.1:6379/N .venv/bin/python bench/profile_delivery.py --records 30 \
        --database-url postgres://postgres@127.0.0.1:5432/DB [--html profile.html]

The database is dropped and made afresh (as bench/delivery.py does; --keep-database keeps it and its rows).
"""

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import delivery  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=30)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", delivery.DEFAULT_DATABASE_URL)
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="use the database with its rows (a copy of a seeded one)"
    )
    parser.add_argument("--html", help="write pyinstrument's HTML report here")
    parser.add_argument("--show-queries", action="store_true", help="print the SQL of the last delivery")
    options = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("REDIS_URL is needed, e.g. redis://127.0.0.1:6379/9")
    tmp_path = Path(tempfile.mkdtemp(prefix="bench-profile-delivery-"))
    options.concurrency, options.sweep_seconds = 1, 60
    delivery.setup(options, tmp_path)

    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from pyinstrument import Profiler

    from publicity import services
    from tests.simulator_process import API_KEY, SimulatorClient, running_simulator

    ids = delivery.prepare(options.records)
    with running_simulator(tmp_path / "simulator") as base_url:
        settings.NATIONAL_PLATFORM_URL = base_url
        settings.NATIONAL_PLATFORM_API_KEY = API_KEY
        # The first delivery warms the process (imports, the HTTP connection): not counted.
        services.deliver(ids[0])
        profiler = Profiler(interval=0.0005)
        times, cpu, queries, kinds = [], [], [], collections.Counter()
        last = None
        for message_id in ids[1:]:
            with CaptureQueriesContext(connection) as captured:
                profiler.start()
                started, started_cpu = time.perf_counter(), time.process_time()
                result = services.deliver(message_id)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                profiler.stop()
            if result != "delivered":
                sys.exit(f"outbox message {message_id}: {result}")
            queries.append(len(captured.captured_queries))
            for query in captured.captured_queries:
                kinds[query["sql"].split(None, 1)[0].upper()] += 1
            last = captured.captured_queries
        stored = SimulatorClient(base_url).records()["create_calls"]
    n = len(times)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if options.html:
        Path(options.html).write_text(profiler.output_html())
    if options.show_queries:
        for query in last:
            print(f"{float(query['time']) * 1000:7.1f} ms  {query['sql'][:220]}")
    print(f"stored exactly once at the simulator: {sum(1 for v in stored.values() if v.get('stored') == 1)}")
    print(
        f"{n} deliveries in-process: queries a delivery {statistics.median(queries):g} (min {min(queries)}, "
        f"max {max(queries)}); by statement a delivery: "
        + ", ".join(f"{k} {v / n:g}" for k, v in sorted(kinds.items()))
    )
    print(
        f"time a delivery: p50 {statistics.median(times) * 1000:.1f} ms, mean {statistics.mean(times) * 1000:.1f} ms; "
        f"this process's CPU a delivery: mean {statistics.mean(cpu) * 1000:.1f} ms; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
