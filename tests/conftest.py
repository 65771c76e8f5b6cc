"""Fixtures shared by every test. Builders and factories for test data live in tests/builders.py.

A fixture used by one test module stays in that module; one used by two or more lives here, once.
"""

import datetime
import os

import pytest

from tests.builders import make_city_user, make_enterprise_user, make_reviewer

# Real Celery worker and beat processes, the simulator as a process (fixtures celery_stack, national_platform);
# tests that need PostgreSQL, Redis or a worker: skipped without them, failed with CI=true (tests/needs.py).
pytest_plugins = ["tests.needs", "tests.processes"]

# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM calls from it
# ("SynchronousOnlyOperation") unless told the loop is not serving async code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create hundreds of users: hash their passwords with MD5 instead of PBKDF2's many rounds (several
    minutes of the suite). Production settings are untouched."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_shared_cache():
    """Each test starts with an empty cache. The embedded default's database cache is rolled back with the test;
    Redis (REDIS_URL) is not, and throttle counts (django-ratelimit) would carry over from earlier tests."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    if isinstance(caches["default"], RedisCache):
        caches[
            "default"
        ].clear()  # FLUSHDB of the test's Redis database: also the broker's, empty between tests anyway
    yield


CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machine has no network but the package registries: without these Chromium keeps trying to reach
    # Google's hosts at start and in the background.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# ---------------------------------------------------------------- reference data


@pytest.fixture
def authorities(db):
    """Chongqing's 43 review authorities, as a dict code → Authority (e.g. authorities["500103"] is 渝中区)."""
    from projects.models import Authority
    from projects.reference import load_authorities

    load_authorities()
    return {a.code: a for a in Authority.objects.all()}


@pytest.fixture
def open_windows(db):
    """A backfill window open from 2018-01-01 to 2099-12-31 for every enterprise kind."""
    from projects.models import BackfillWindow, EnterpriseKind

    return {
        kind: BackfillWindow.objects.update_or_create(
            enterprise_kind=kind,
            defaults={
                "opens_on": datetime.date(2018, 1, 1),
                "closes_on": datetime.date(2099, 12, 31),
                "basis": "测试用时限",
                "drawings_reviewed_by": datetime.date(2018, 6, 30),
            },
        )[0]
        for kind in EnterpriseKind.values
    }


# ---------------------------------------------------------------- places and people


@pytest.fixture
def yuzhong(authorities):
    """渝中区 (500103), where most test records are."""
    return authorities["500103"]


@pytest.fixture
def liangjiang(authorities):
    """两江新区 (LJXQ), a development zone: "another authority" for a reviewer."""
    return authorities["LJXQ"]


@pytest.fixture
def clerk(db):
    """A user of a new construction enterprise, who fills in its backfills."""
    return make_enterprise_user(username="clerk")


@pytest.fixture
def reviewer(yuzhong):
    """A reviewer of 渝中区."""
    return make_reviewer(yuzhong, username="yz-reviewer")


@pytest.fixture
def other_reviewer(liangjiang):
    """A reviewer of another authority (两江新区)."""
    return make_reviewer(liangjiang, username="lj-reviewer")


@pytest.fixture
def city(db):
    """A user of the city commission as a whole (no department)."""
    return make_city_user(username="city")


# ---------------------------------------------------------------- files


@pytest.fixture
def evidence_storage(tmp_path, monkeypatch):
    """A private storage of the test's own, empty, that the test can list: while it runs, every private file field
    (evidence, correction, spot-check and objection evidence) stores in tmp_path/private. Without it files go to
    the run's temporary VAR_DIR (tests/isolation.py), shared by all tests."""
    from django.apps import apps
    from django.core.files.storage import FileSystemStorage, storages
    from django.db.models import FileField

    location = tmp_path / "private"
    location.mkdir()
    storage = FileSystemStorage(location=location)
    private_fields = [
        field
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, FileField) and field.storage is storages["private"]
    ]
    assert private_fields, "no file field stores in the private storage"
    for field in private_fields:
        monkeypatch.setattr(field, "storage", storage)
    return location


# ---------------------------------------------------------------- browser tests (pytest-playwright)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a browser downloaded by `playwright install` (the machine cannot fetch one)."""
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("PLAYWRIGHT_CHROMIUM_EXECUTABLE", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def axe():
    """axe-core from the npm registry (tests/axe.py): `axe.violations(page)`. Fetched once into a cache directory
    and checked against its pinned integrity; where it cannot be had: skipped, and failed with CI=true."""
    from tests.axe import Axe, AxeCoreUnavailable, axe_script
    from tests.needs import in_ci

    try:
        return Axe(axe_script())
    except AxeCoreUnavailable as problem:
        message = f"needs axe-core from the npm registry: {problem}"
        if in_ci():
            pytest.fail(f"CI=true, where no test may skip: {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def base_url(live_server):
    """Pages opened with page.goto("/path") go to pytest-django's live server.

    Its data is only visible to tests that use the `transactional_db` fixture (the server runs in another
    thread, outside the test's transaction).
    """
    return live_server.url
