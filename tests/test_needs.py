"""A test that needs a service it does not have is skipped on a laptop and fails with CI=true (tests/needs.py).

Runs pytest as CI would on tests/test_cache_backend.py (which needs Redis) with REDIS_URL unset, once with CI=true
and once without.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_without_redis(**env):
    environ = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "CI"}}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cache_backend.py"]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_test_that_needs_redis_fails_in_ci_and_is_skipped_elsewhere():
    in_ci, on_a_laptop = run_without_redis(CI="true"), run_without_redis()  # both at once: each starts Django
    ci_output, _ = in_ci.communicate(timeout=120)
    laptop_output, _ = on_a_laptop.communicate(timeout=120)

    assert in_ci.returncode == 1, ci_output
    assert "CI=true, where no test may skip: needs Redis (REDIS_URL), as in CI" in ci_output
    assert "2 errors" in ci_output and "skipped" not in ci_output
    assert on_a_laptop.returncode == 0, laptop_output
    assert "2 skipped" in laptop_output
