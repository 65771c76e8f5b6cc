"""Every file a test writes goes to the run's temporary VAR_DIR, never to the repository's var/ (tests/isolation.py)."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages

from projects.models import Evidence
from tests.isolation import REPOSITORY_VAR, TEST_VAR_DIR, changed_paths, files_under, redis_url_for_worker


def is_temporary(path) -> bool:
    return Path(path).resolve().is_relative_to(TEST_VAR_DIR.resolve())


def test_every_local_file_of_the_settings_is_in_the_temporary_var_dir():
    assert not TEST_VAR_DIR.resolve().is_relative_to(REPOSITORY_VAR.parent.resolve())
    assert is_temporary(settings.VAR_DIR)
    assert is_temporary(storages["private"].location)
    assert is_temporary(Evidence._meta.get_field("file").storage.location)
    assert is_temporary(settings.MEDIA_ROOT)
    assert is_temporary(settings.STATIC_ROOT)
    assert is_temporary(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    for key, folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items():
        if key.endswith(("_folder", "_folder_in", "_folder_out")):
            assert is_temporary(folder), key


def test_the_end_of_run_check_sees_files_created_changed_and_removed(tmp_path):
    (tmp_path / "kept.txt").write_text("same")
    (tmp_path / "changed.txt").write_text("before")
    (tmp_path / "removed.txt").write_text("gone soon")
    before = files_under(tmp_path)
    assert changed_paths(before, files_under(tmp_path)) == []

    (tmp_path / "changed.txt").write_text("after, longer")
    (tmp_path / "removed.txt").unlink()
    (tmp_path / "private" / "2026").mkdir(parents=True)
    (tmp_path / "private" / "2026" / "new.pdf").write_bytes(b"%PDF")

    assert changed_paths(before, files_under(tmp_path)) == [
        str(tmp_path / name)
        for name in ["changed.txt", "private", "private/2026", "private/2026/new.pdf", "removed.txt"]
    ]


def test_each_xdist_worker_has_a_redis_database_of_its_own():
    """The broker and cache of one worker's tests (and of the Celery workers they start) are not another's."""
    assert redis_url_for_worker("redis://127.0.0.1:6379/14", "gw0") == "redis://127.0.0.1:6379/14"
    assert redis_url_for_worker("redis://127.0.0.1:6379/14", "gw1") == "redis://127.0.0.1:6379/15"
    assert redis_url_for_worker("redis://:secret@cache:6379", "gw1") == "redis://:secret@cache:6379/1"
    assert (
        redis_url_for_worker("redis://cache:6379/2?socket_timeout=1", "gw3")
        == "redis://cache:6379/5?socket_timeout=1"
    )
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and settings.REDIS_URL:  # this run is `make test`'s, in xdist workers, on Redis
        assert os.environ["BACKFILL_TEST_REDIS_WORKER"] == worker
        assert settings.CELERY_BROKER_URL == settings.REDIS_URL == os.environ["REDIS_URL"]
        assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
