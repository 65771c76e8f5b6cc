"""The settings the test suite runs with: the real ones (backfill_portal/settings.py), DEBUG off as in production,
with the environment a test machine needs set first.

- A key of its own: with DEBUG off the settings refuse the public demo key.
- Plain HTTP: the test client, live_server and the real processes tests start speak HTTP on loopback, so the SSL
  redirect and secure-only cookies are off (tests/test_production_settings.py checks them on, in a fresh process).
Set in os.environ, so the Celery workers and servers the tests start (tests/processes.py) inherit them too.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-secret-key-never-used-elsewhere-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")

from backfill_portal.settings import *  # noqa: E402, F403
