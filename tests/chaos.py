"""The chaos run: records through approval, notice expiry and delivery while everything around them fails
(docs/architecture.md, "When the cache or the broker is down"; docs/lifecycle.md, "Delivery").

Shared by tests/test_chaos.py (CI: a few minutes, fast clocks) and bench/chaos.py (full scale). Every part is real
and a process of its own: a Redis (tests/redis_process.py) as broker and cache, Celery workers and beat
(tests/processes.py), gunicorn serving the portal, the national platform's simulator; the database is the caller's
(committed, visible to them all). The timeline:

1. the simulator fails `error_rate` of the calls (503) and answers each after `latency_ms`;
2. `records` records are made and approved by their district's reviewer (snapshot and notice, the real service);
3. beat is stopped, every notice ends, beat is started again after the end (nothing closed meanwhile);
4. deliveries run; the worker is SIGKILLed (first time) and replaced;
5. the simulator answers nothing but 503 for `outage_seconds`, longer than the old retry budget (8 attempts);
   meanwhile Redis is stopped for `redis_down_seconds` and started again empty, and the worker is SIGKILLed again;
6. the simulator fails `error_rate` again; the run waits for every record to enter (at most `settle_seconds`).

Throughout, a thread asks gunicorn for the public pages once a second and counts every answer that is not a 200.
The outcome: entered (in the library here and at the simulator), lost (approved but not at the simulator), doubled
(stored more than once or with more than one version at the simulator), stuck (not in the library here), and the
longest delay from a notice's end to its record's entry.
"""

import datetime
import http.client
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.processes import ChildProcess, wait_for

PAGES = ("/notices/", "/library/")


@dataclass
class Plan:
    records: int = 200
    error_rate: float = 0.5
    latency_ms: int = 300
    outage_seconds: float = 20.0
    redis_down_seconds: float = 5.0
    settle_seconds: float = 180.0
    concurrency: int = 4
    backoff_base: float = 0.2  # OUTBOX_BACKOFF_BASE_SECONDS for the workers
    backoff_max: float = 2.0  # OUTBOX_BACKOFF_MAX_SECONDS


@dataclass
class Outcome:
    records: int
    entered: int
    lost: int
    doubled: int
    stuck: int
    max_delay_s: float
    page_samples: int
    page_failures: int
    failures: list = field(default_factory=list)
    timeline: list = field(default_factory=list)

    def last_line(self) -> str:
        return (
            f"records {self.records} entered {self.entered} lost {self.lost} doubled {self.doubled} "
            f"stuck {self.stuck} max_delay_s {self.max_delay_s:.1f}"
        )


def old_retry_budget(base: float, maximum: float, attempts: int = 8) -> float:
    """The longest the policy before the time-based one kept a message: 8 attempts, the waits between them at most
    min(max, base·2^(n-1)) each."""
    return sum(min(maximum, base * 2 ** (n - 1)) for n in range(1, attempts))


class PageSampler(threading.Thread):
    """Once a second, every public page from gunicorn: each answer that is not a 200 (or no answer in 10 s) is a
    failure."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port = port
        self.samples = 0
        self.failures: list[str] = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            started = time.monotonic()
            for path in PAGES:
                self.samples += 1
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    connection.request("GET", path)
                    response = connection.getresponse()
                    response.read()
                    connection.close()
                    if response.status != 200:
                        self.failures.append(f"{time.strftime('%H:%M:%S')} {path} {response.status}")
                except OSError as error:
                    self.failures.append(
                        f"{time.strftime('%H:%M:%S')} {path} {type(error).__name__}: {error}"
                    )
            self._halt.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def stop(self):
        self._halt.set()
        self.join(timeout=15)


def start_gunicorn(tmp_path: Path, env: dict, port: int) -> ChildProcess:
    argv = [
        sys.executable, "-m", "gunicorn", "backfill_portal.wsgi",
        "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "30", "--access-logfile", "-",
    ]  # fmt: skip
    web = ChildProcess("gunicorn", argv, env, tmp_path / "gunicorn.log", ready_marker="Booting worker")
    return web.start()


def make_records(count: int, tag: str):
    """`count` records of one enterprise in 渝中区, submitted, then approved by the district's reviewer."""
    from django.contrib.auth import get_user_model

    from projects.audit import Actor
    from projects.models import Authority, Enterprise, EnterpriseKind, Status
    from projects.reference import load_authorities
    from review import services as review_services
    from tests.builders import (
        credit_code,
        make_enterprise_user,
        make_project,
        make_reviewer,
        open_backfill_windows,
    )

    load_authorities()
    open_backfill_windows("混沌测试用时限")
    yuzhong = Authority.objects.get(code="500103")
    # One enterprise and reviewer per database, kept across runs (bench/chaos.py reuses its database).
    users = get_user_model().objects
    clerk = users.filter(username="chaos-clerk").first() or make_enterprise_user(
        enterprise=Enterprise.objects.get_or_create(
            credit_code=credit_code("91500103MC0000001"),
            defaults={"name": "重庆混沌测试建设工程有限公司", "kind": EnterpriseKind.CONSTRUCTION},
        )[0],
        username="chaos-clerk",
    )
    reviewer = Actor(
        user=users.filter(username="chaos-reviewer").first()
        or make_reviewer(yuzhong, username="chaos-reviewer")
    )
    projects = []
    for n in range(count):
        project = make_project(
            clerk.membership.enterprise,
            clerk,
            yuzhong,
            status=Status.SUBMITTED,
            evidence=False,
            name=f"混沌测试综合楼{tag}-{n:04d}",
        )
        projects.append(review_services.approve(actor=reviewer, project=project))
    return projects


class ChaosRun:
    def __init__(
        self, plan: Plan, *, stack, simulator, redis_server, web_env: dict, web_port: int, tmp_path, say
    ):
        self.plan = plan
        self.stack = stack
        self.simulator = simulator
        self.redis = redis_server
        self.web_env = web_env
        self.web_port = web_port
        self.tmp_path = Path(tmp_path)
        self.say = say
        self.started = time.monotonic()
        self.timeline: list[str] = []
        self.process_env = {
            "REDIS_URL": redis_server.url(),
            "OUTBOX_BACKOFF_BASE_SECONDS": str(plan.backoff_base),
            "OUTBOX_BACKOFF_MAX_SECONDS": str(plan.backoff_max),
        }

    def mark(self, what: str):
        line = f"t={time.monotonic() - self.started:6.1f}s {what}"
        self.timeline.append(line)
        self.say(line)

    def worker(self):
        return self.stack.worker(concurrency=self.plan.concurrency, **self.process_env)

    def beat(self):
        return self.stack.beat(**self.process_env)

    def run(self) -> Outcome:
        from projects.models import Project, Status

        plan = self.plan
        self.simulator.set_faults(error_rate=plan.error_rate, latency_ms=plan.latency_ms)
        web = start_gunicorn(self.tmp_path, {**self.web_env, **self.process_env}, self.web_port)
        wait_until_up(self.web_port)
        sampler = PageSampler(self.web_port)
        sampler.start()
        worker = self.worker()
        beat = self.beat()
        self.mark(
            f"simulator failing {plan.error_rate:.0%} with {plan.latency_ms} ms; worker, beat, gunicorn up"
        )
        try:
            projects = make_records(plan.records, tag=str(int(time.time())))
            ids = [p.pk for p in projects]
            self.mark(f"{len(ids)} records approved (notices running)")
            ends_at = self._notices_end_while_beat_is_down(ids, beat)
            beat = self.beat()
            self.mark("beat started again")

            def entered():
                return Project.objects.filter(pk__in=ids, status=Status.IN_NATIONAL_LIBRARY).count()

            wait_for(
                lambda: entered() >= max(1, len(ids) // 5),
                timeout=plan.settle_seconds,
                what="a fifth of the records to enter",
                logs=[worker, beat],
            )
            self.mark(f"{entered()} entered; SIGKILL to the worker (1)")
            worker.kill()
            worker = self.worker()
            worker = self._outage(worker)
            self.simulator.set_faults(error_rate=plan.error_rate)
            self.mark(f"outage over: simulator failing {plan.error_rate:.0%} again; {entered()} entered")
            try:
                wait_for(
                    lambda: entered() == len(ids),
                    timeout=plan.settle_seconds,
                    what="every record to enter",
                    interval=0.5,
                    logs=[worker, beat],
                )
            except AssertionError as timed_out:
                self.mark(f"not all entered: {str(timed_out).splitlines()[0]}")
            self.mark(f"{entered()} entered")
        finally:
            try:
                sampler.stop()
            finally:
                web.stop()
        return self._outcome(ids, ends_at, sampler)

    def _notices_end_while_beat_is_down(self, ids, beat):
        from django.utils import timezone

        from publicity.models import Notice, NoticeState

        beat.stop()
        ends_at = timezone.now() + datetime.timedelta(seconds=2)
        Notice.objects.filter(project_id__in=ids).update(ends_at=ends_at)
        self.mark("beat stopped; every notice ends in 2 s")
        time.sleep(5)
        running = Notice.objects.filter(project_id__in=ids, state=NoticeState.RUNNING).count()
        self.mark(f"notices ended 3 s ago, {running} still running (no beat, nobody closes them)")
        return ends_at

    def _outage(self, worker):
        plan = self.plan
        self.simulator.set_faults(error_rate=1.0)
        budget = old_retry_budget(plan.backoff_base, plan.backoff_max)
        self.mark(
            f"full outage for {plan.outage_seconds:g} s (the old 8-attempt budget here: {budget:.1f} s)"
        )
        ends = time.monotonic() + plan.outage_seconds
        time.sleep(plan.outage_seconds / 4)
        self.redis.stop()
        self.mark("Redis (broker and cache) stopped")
        time.sleep(plan.redis_down_seconds)
        self.redis.start()
        self.mark("Redis started again, empty")
        time.sleep(max(0.0, min(plan.outage_seconds / 4, ends - time.monotonic())))
        worker.kill()
        worker = self.worker()
        self.mark("SIGKILL to the worker (2), a new one started")
        time.sleep(max(0.0, ends - time.monotonic()))
        return worker

    def _outcome(self, ids, ends_at, sampler) -> Outcome:
        from projects.models import Project, Status
        from publicity.models import OutboxMessage, OutboxState

        numbers = dict(Project.objects.filter(pk__in=ids).values_list("project_number", "status"))
        records = self.simulator.records()
        at_simulator: dict[str, int] = {}
        doubled = set()
        for record in records["records"]:
            number = record["project_number"]
            if number in numbers:
                at_simulator[number] = at_simulator.get(number, 0) + 1
                if len(record["versions"]) != 1:
                    doubled.add(number)
        doubled |= {n for n, count in at_simulator.items() if count > 1}
        doubled |= {n for n in numbers if records["create_calls"].get(n, {}).get("stored", 0) > 1}
        entered = sum(
            1 for n, status in numbers.items() if status == Status.IN_NATIONAL_LIBRARY and n in at_simulator
        )
        delivered = OutboxMessage.objects.filter(project_id__in=ids, state=OutboxState.DELIVERED)
        delays = [(at - ends_at).total_seconds() for at in delivered.values_list("delivered_at", flat=True)]
        return Outcome(
            records=len(ids),
            entered=entered,
            lost=sum(1 for n in numbers if n not in at_simulator),
            doubled=len(doubled),
            stuck=sum(1 for status in numbers.values() if status != Status.IN_NATIONAL_LIBRARY),
            max_delay_s=max(delays, default=0.0),
            page_samples=sampler.samples,
            page_failures=len(sampler.failures),
            failures=sampler.failures,
            timeline=self.timeline,
        )


def wait_until_up(port: int, timeout: float = 30):
    def answers():
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", PAGES[0])
            ok = connection.getresponse().status == 200
            connection.close()
            return ok
        except OSError:
            return False

    wait_for(answers, timeout=timeout, what="gunicorn to answer")
