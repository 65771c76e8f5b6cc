"""The HTTP benchmarks' load generator: wrk (Debian's `wrk` package, a C program in its own process) driving a
list of URLs through a Lua script, each page measured right after the bare view on the same server (A B A B …),
so that drift on a shared machine falls on both; Python threads when wrk is missing (say which in the output).

A case is a name, a server port and a list of paths (one path: the same URL each time; several: every request the
next one, each wrk connection starting at its own place in the list). `run_cases` returns, per case, the
requests/s, p50 and p99 over its rounds (the rate as total requests over total time, p50 as the mean of the
rounds' p50, p99 as the worst round's p99) and the same for the bare view runs paired with it.
"""

import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"  # the load generator talks to this machine only
BARE = "/bench/bare/"

LUA = r"""
-- Varied URLs: paths from the file given after "--", one a line; each connection's thread starts elsewhere.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end
function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  index = ((thread_number or 1) * 7919) % #paths
end
function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index], {["Accept-Language"] = "zh-CN"})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "status": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.status,
    e.connect, e.read, e.write, e.timeout))
end
"""

# For scripts that count per thread: each thread gets an id (`id`, set before init) and is kept, so that done()
# (in wrk's main state) can add up what the threads counted, `total("name")`, and join what they noted,
# `joined("name")` (made safe inside a JSON string).
THREADS_LUA = r"""
local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end
function total(name)
  local sum = 0
  for _, thread in ipairs(threads) do sum = sum + (thread:get(name) or 0) end
  return sum
end
function joined(name)
  local text = ""
  for _, thread in ipairs(threads) do text = text .. (thread:get(name) or "") end
  return (text:gsub('[%c"\\]', "'"))
end
"""


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Case:
    name: str
    port: int
    paths: list[str]
    note: str = ""
    runs: list[Run] = field(default_factory=list)
    bare_runs: list[Run] = field(default_factory=list)


def wrk_path() -> str | None:
    return shutil.which("wrk")


def which_generator(prefer_python: bool = False) -> str:
    if not prefer_python and wrk_path():
        return "wrk"
    if not prefer_python:
        print(
            "wrk is not installed (Debian: apt-get install wrk): falling back to the Python client in this "
            "process, which shares the CPUs with the server and flatters every ratio (bench/README.md)."
        )
    return "python"


def check(port: int, paths: list[str]):
    """One GET of each distinct path: all must answer 200 (this also warms templates and database buffers)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    for path in dict.fromkeys(paths):
        status, body = fetch(connection, path)
        if status != 200 or not body:
            raise SystemExit(f"{path} answered HTTP {status}: a benchmark measures only pages that work")
    connection.close()


def fetch(connection: http.client.HTTPConnection, path: str):
    connection.request("GET", path, headers={"Host": HOST, "Accept-Language": "zh-CN"})
    response = connection.getresponse()
    body = (
        response.read()
    )  # a response the server closes also closes the connection; the next request reopens it
    return response.status, body


def run_wrk(
    port: int, paths: list[str], seconds: float, connections: int, threads: int, workdir: Path
) -> Run:
    script = workdir / "paths.lua"
    if not script.exists():
        script.write_text(LUA)
    listing = workdir / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    command = [
        wrk_path(),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{paths[0]}",
        "--",
        str(listing),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(x for x in output.splitlines() if x.startswith("WRK_JSON "))
    figures = json.loads(line.removeprefix("WRK_JSON "))
    errors = sum(figures[k] for k in ("status", "connect", "read", "write", "timeout"))
    return Run(
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=errors,
    )


def run_python(port: int, paths: list[str], seconds: float, connections: int) -> Run:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(offset):
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine, index = [], offset
        while time.monotonic() < deadline:
            index = (index + 1) % len(paths)
            began = time.perf_counter()
            try:
                status, _body = fetch(connection, paths[index])
            except (OSError, http.client.HTTPException):
                connection.close()
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - began)
            if status != 200:
                with lock:
                    errors[0] += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(n * 7919,)) for n in range(connections)]
    began = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies) or [float("nan")]
    return Run(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))] * 1000,
        errors=errors[0],
    )


def run_cases(cases: list[Case], generator: str, seconds: float, rounds: int, connections: int, threads: int):
    """Each round: for each case, the bare view then the case (A B A B …), the order of cases reversed every
    other round."""
    for case in cases:
        check(case.port, case.paths)
        check(case.port, [BARE])
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as workdir:

        def one(port, paths):
            # The requests a slow page left queued in the server when the previous run stopped are served first:
            # wait for them (one bare request goes through once they are done), so they do not fall on this run.
            check(port, [BARE])
            if generator == "wrk":
                return run_wrk(port, paths, seconds, connections, threads, Path(workdir))
            return run_python(port, paths, seconds, connections)

        for round_number in range(rounds):
            order = cases if round_number % 2 == 0 else list(reversed(cases))
            for case in order:
                case.bare_runs.append(one(case.port, [BARE]))
                case.runs.append(one(case.port, case.paths))
                print(f"  round {round_number + 1}/{rounds}: {case.name}", flush=True)


def summary(runs: list[Run]) -> dict:
    requests = sum(r.requests for r in runs)
    seconds = sum(r.seconds for r in runs)
    return {
        "requests": requests,
        "rate": requests / seconds if seconds else 0.0,
        "p50": statistics.mean(r.p50_ms for r in runs),
        "p99": max(r.p99_ms for r in runs),
        "errors": sum(r.errors for r in runs),
    }


def table(cases: list[Case]) -> str:
    bare = summary([run for case in cases for run in case.bare_runs])
    lines = [
        f"{'page':<28} {'URLs':>4} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'bare/s':>7} {'ratio':>6}",
        f"{'bare view (all its runs)':<28} {1:>4} {bare['requests']:>8} {bare['errors']:>6} {bare['rate']:>7.0f} "
        f"{bare['p50']:>7.1f} {bare['p99']:>7.1f} {bare['rate']:>7.0f} {1:>6.2f}",
    ]
    for case in cases:
        mine, paired = summary(case.runs), summary(case.bare_runs)
        ratio = mine["rate"] / paired["rate"] if paired["rate"] else float("nan")
        lines.append(
            f"{case.name:<28} {len(set(case.paths)):>4} {mine['requests']:>8} {mine['errors']:>6} "
            f"{mine['rate']:>7.0f} {mine['p50']:>7.1f} {mine['p99']:>7.1f} {paired['rate']:>7.0f} {ratio:>6.2f}"
        )
    return "\n".join(lines)


def cpu_note() -> str:
    return f"{os.cpu_count()} CPUs shared by server, PostgreSQL, Redis, load generator (and other work)"
