"""Keeps a test run out of the working tree: every file the tests write goes to a temporary directory.

The settings put every local file under VAR_DIR (SQLite, evidence in private/, media/, the file-system Celery broker,
beat's schedule): by default the repository's var/, the folder `make run`'s demo uses. This plugin points VAR_DIR
at a fresh temporary directory before Django reads its settings, so the storages, the broker and every child
process the tests start (they inherit the environment) write there; it is removed when the run ends.

It must run before pytest-django imports the settings, which happens before any conftest.py is read: so it is a
plugin named on the command line (`-p tests.isolation` in pyproject.toml's addopts), not a fixture.

At the end of the run it checks that nothing under the repository's var/ was created, changed or removed, and
fails the run if something was (a `make run` demo working in the same tree at the same time writes there too).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPOSITORY_VAR = Path(__file__).resolve().parent.parent / "var"

# Set at import, before pytest-django loads backfill_portal.settings.
TEST_VAR_DIR = Path(tempfile.mkdtemp(prefix="backfill-tests-var-"))
os.environ["VAR_DIR"] = str(TEST_VAR_DIR)
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
