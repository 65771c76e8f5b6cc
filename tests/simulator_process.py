"""The national-platform simulator as a real child process, for tests (docs/national-api.md).

    with running_simulator(tmp_path, error_rate=0.5, seed=1) as base_url:
        client = SimulatorClient(base_url)
        ...
        assert client.records()["create_calls"][number]["stored"] == 1

Standard library only (urllib), so the helper works in any test without Django or requests.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "test-national-key"
STARTUP_TIMEOUT = 15
# Talk to the local process directly, whatever http_proxy says.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@contextmanager
def running_simulator(tmp_dir, *, api_key=API_KEY, port=0, **faults):
    """Start `python -m simulator` on a free port with its own SQLite file in tmp_dir; yield its base URL.

    faults: latency_ms, error_rate, timeout_rate, seed, hang_seconds (the CLI flags). The process log is
    tmp_dir/simulator.log; it is terminated (then killed) on exit.
    """
    tmp_dir = Path(tmp_dir)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    log_path = tmp_dir / "simulator.log"
    command = [
        sys.executable, "-m", "simulator",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--db", str(tmp_dir / "sim.sqlite3"),
        "--api-key", api_key,
    ]  # fmt: skip
    for name, value in faults.items():
        if value is not None:
            command += [f"--{name.replace('_', '-')}", str(value)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
        )
    try:
        base_url = _wait_until_up(process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process, log_path: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"simulator exited with {process.returncode}:\n{log_path.read_text()}")
        match = re.search(r"listening on (http://\S+)", log_path.read_text(errors="replace"))
        if match:
            try:
                with OPENER.open(f"{match[1]}/_control/health", timeout=1) as response:
                    if response.status == 200:
                        return match[1]
            except OSError:
                pass
        time.sleep(0.05)
    raise RuntimeError(f"simulator not up after {STARTUP_TIMEOUT}s:\n{log_path.read_text()}")


def standard_payload(project_number, **project_info) -> dict:
    """The smallest record the simulator accepts: the project row of the national standard, no stage yet."""
    row = {
        "PrjNum": project_number,
        "DataSource": 3,
        "DataLevel": "C",
        "PrjName": "渝中区某住宅",
        "PrjTypeNum": "01",
        "BuildCorpName": "重庆市渝中区城市建设投资有限公司",
        "BuildCorpCode": "12500103MB00000013",
        "ProvinceNum": project_number[:2] + "0000",
        "CityNum": project_number[:4] + "00",
        "CountyNum": project_number[:6],
        "PrjPropertyNum": "001",
        "PrjFunctionNum": "100",
        "BDate": "2017-01-05",
        "EDate": "2017-10-20",
        **project_info,
    }
    return {"TBProjectInfo": [row]}


class SimulatorClient:
    """A thin HTTP client: every call returns (status, headers, body parsed from JSON when it is JSON)."""

    def __init__(self, base_url: str, api_key: str = API_KEY):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def call(self, method, path, body=None, *, key=None, api_key=None, timeout=10):
        headers = {"X-Api-Key": self.api_key if api_key is None else api_key}
        if key is not None:
            headers["Idempotency-Key"] = key
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers, method=method)
        try:
            with OPENER.open(request, timeout=timeout) as response:
                return response.status, response.headers, _parse(response.read(), response.headers)
        except urllib.error.HTTPError as answer:  # 4xx/5xx: still an answer
            with answer:
                return answer.code, answer.headers, _parse(answer.read(), answer.headers)

    # -- the API

    def create(self, project_number, payload=None, *, key, data_level="C", timeout=10, **extra):
        body = {
            "project_number": project_number,
            "version": 1,
            "data_source": 3,
            "data_level": data_level,
            "payload": standard_payload(project_number) if payload is None else payload,
            **extra,
        }
        return self.call("POST", "/api/v1/projects", body, key=key, timeout=timeout)

    # -- control

    def set_faults(self, **faults) -> dict:
        status, _, body = self.call("POST", "/_control/faults", faults)
        assert status == 200, body
        return body

    def faults(self) -> dict:
        status, _, body = self.call("GET", "/_control/faults")
        assert status == 200, body
        return body

    def clear_faults(self) -> dict:
        return self.set_faults(latency_ms=0, error_rate=0.0, timeout_rate=0.0)

    def reset(self):
        status, _, body = self.call("POST", "/_control/reset", {})
        assert status == 200, body

    def records(self) -> dict:
        status, _, body = self.call("GET", "/_control/records")
        assert status == 200, body
        return body


def _parse(raw: bytes, headers):
    if "json" in (headers.get("Content-Type") or ""):
        return json.loads(raw)
    return raw.decode("utf-8", errors="replace")
