"""Keeps a test run out of the working tree: every file the tests write goes to a temporary directory.

The settings put every local file under VAR_DIR (SQLite, evidence in private/, media/, the file-system Celery broker,
beat's schedule): by default the repository's var/, the folder `make run`'s demo uses. This plugin points VAR_DIR
at a fresh temporary directory before Django reads its settings, so the storages, the broker and every child
process the tests start (they inherit the environment) write there; it is removed when the run ends.

It must run before pytest-django imports the settings, which happens before any conftest.py is read: so it is a
plugin named on the command line (`-p tests.isolation` in pyproject.toml's addopts), not a fixture.

At the end of the run it checks that nothing under the repository's var/ was created, changed or removed, and
fails the run if something was (a `make run` demo working in the same tree at the same time writes there too).

Under pytest-xdist (`make test` runs two workers: README.md, "make test") each worker is a process of its own, so each gets
its own VAR_DIR here, its own test database from pytest-django (test_<name>_gw0, test_<name>_gw1) and, below, its
own Redis database: REDIS_URL's database number plus the worker's index (…/14 → gw0 on 14, gw1 on 15). The Redis
database is the Celery broker and the cache of the tests and of every worker process they start: two xdist workers
on one would take each other's tasks and empty each other's cache (tests/conftest.py flushes it before each test).
"""

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPOSITORY_VAR = Path(__file__).resolve().parent.parent / "var"

# Set at import, before pytest-django loads backfill_portal.settings.
TEST_VAR_DIR = Path(tempfile.mkdtemp(prefix="backfill-tests-var-"))
os.environ["VAR_DIR"] = str(TEST_VAR_DIR)


def redis_url_for_worker(url: str, worker: str) -> str:
    """REDIS_URL for xdist worker `worker` ("gw0", "gw1", …): the same server, database number + the worker's index."""
    index = int(worker.removeprefix("gw"))
    parts = urlsplit(url)
    path = parts.path.strip("/")
    database = int(path) if path else 0
    return urlunsplit(parts._replace(path=f"/{database + index}"))


# pytest-xdist sets PYTEST_XDIST_WORKER in a worker before it reads its configuration (so before this import). A
# process the worker starts inherits both variables with REDIS_URL already moved: moved once only.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL") and os.environ.get("BACKFILL_TEST_REDIS_WORKER") != _worker:
    os.environ["REDIS_URL"] = redis_url_for_worker(os.environ["REDIS_URL"], _worker)
    os.environ["BACKFILL_TEST_REDIS_WORKER"] = _worker

# Evidence on S3 where a bucket is named: never a real bucket from a developer's shell (tests/test_s3_storage.py
# starts its own S3 server).
os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)


def files_under(root: Path) -> dict[str, tuple]:
    """Every file and folder under root: path → (size, modification time) for files, None for folders."""
    found = {}
    for folder, subfolders, files in os.walk(root):
        for name in subfolders:
            found[os.path.join(folder, name)] = None
        for name in files:
            path = os.path.join(folder, name)
            try:
                stat = os.stat(path)
            except FileNotFoundError:  # removed while walking
                continue
            found[path] = (stat.st_size, stat.st_mtime_ns)
    return found


def changed_paths(before: dict, after: dict) -> list[str]:
    return sorted(
        path for path in before.keys() | after.keys() if before.get(path, "-") != after.get(path, "-")
    )


_var_before = files_under(REPOSITORY_VAR)


def pytest_sessionfinish(session):
    changed = changed_paths(_var_before, files_under(REPOSITORY_VAR))
    if not changed:
        return
    shown = "\n".join(f"  {path}" for path in changed[:20])
    more = f"\n  … and {len(changed) - 20} more" if len(changed) > 20 else ""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = (
        f"The test run changed {len(changed)} path(s) under {REPOSITORY_VAR}: tests must write to temporary "
        f"storage only (VAR_DIR is {TEST_VAR_DIR}).\n{shown}{more}"
    )
    if reporter:
        reporter.ensure_newline()
        reporter.write_line(message, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config):
    shutil.rmtree(TEST_VAR_DIR, ignore_errors=True)
