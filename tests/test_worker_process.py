"""What a Celery worker process does as it starts (backfill_portal/celery.py)."""

import gc

from backfill_portal.celery import freeze_startup_objects


def test_a_worker_process_freezes_the_objects_it_starts_with():
    # The objects of Django and the apps, out of the collector's generations: a long task's full collections do
    # not walk them again and again (docs/import.md, "Rules once a process").
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > 0
        garbage = []
        garbage.append(garbage)  # a cycle made after the freeze is still collected
        del garbage
        assert gc.collect() > 0
    finally:
        gc.unfreeze()
