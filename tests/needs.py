"""Tests that need a real service: PostgreSQL, Redis, or Celery worker processes (which need both).

Without the service (`make test` on a laptop: the embedded SQLite default, no REDIS_URL) such a test is skipped
and says what it needs. With CI=true (CI sets it, and .ci/run sets it again) the test fails instead: CI provides
every service, so a missing one is broken wiring, and skipping would leave the run green with those tests unrun.

    pytestmark = needs_service(connection.vendor == "postgresql", reason="the triggers are PostgreSQL's")

Registered as a plugin in tests/conftest.py (`pytest_plugins`): its hook turns the mark into a skip or a failure.
"""

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def needs_service(available: bool, *, reason: str) -> pytest.MarkDecorator:
    """A mark for a test that runs only where `available`: elsewhere skipped with `reason`, or failed with CI=true."""
    return pytest.mark.needs_service(available=available, reason=reason)


@pytest.hookimpl(tryfirst=True)  # before any fixture starts a process or opens a connection
def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs_service"):
        if mark.kwargs["available"]:
            continue
        if in_ci():
            pytest.fail(f"CI=true, where no test may skip: {mark.kwargs['reason']}", pytrace=False)
        # A skip mark, which pytest's own setup hook (after this one) honours, reporting the test's location.
        item.add_marker(pytest.mark.skip(reason=mark.kwargs["reason"]))
