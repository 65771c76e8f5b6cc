"""The settings the test suite runs with: the real ones (backfill_portal/settings.py), DEBUG off as in production,
with the environment a test machine needs set first.

- A key of its own: with DEBUG off the settings refuse the public demo key.
- No role must sign in with a second factor (tests/test_two_factor.py requires it where it tests it).
- Plain HTTP: the test client, live_server and the real processes tests start speak HTTP on loopback, so the SSL
  redirect and secure-only cookies are off (tests/test_production_settings.py checks them on, in a fresh process).
Set in os.environ, so the Celery workers and servers the tests start (tests/processes.py) inherit them too.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-secret-key-never-used-elsewhere-0123456789")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
# Two-factor sign-in is required of no role here, so that the suite's reviewers and city users sign in with a
# password as before; tests/test_two_factor.py turns the requirement on (production: reviewer,city,administrator).
os.environ.setdefault("OTP_REQUIRED_FOR_ROLES", "")

from backfill_portal.settings import *  # noqa: E402, F403
