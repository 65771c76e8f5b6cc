"""The embedded default's Celery broker (kombu's filesystem transport) needs its folders before anything is sent:
the seed enqueues deliveries (publicity.services.close_expired_notices) before scripts/run_dev.py starts the
worker."""

from pathlib import Path

from django.conf import settings


def prepare_broker_folders():
    """kombu's filesystem transport does not create its folders; sending and the worker fail without them."""
    Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.mkdir(parents=True, exist_ok=True)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        # data_folder_in/out, processed_folder, control_folder: every "..._folder*" option is a directory.
        for key, value in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items():
            if "_folder" in key and value:
                Path(value).mkdir(parents=True, exist_ok=True)
