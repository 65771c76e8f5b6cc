"""Settings: everything from the environment, with embedded defaults that need no server.

Embedded defaults (nothing set): SQLite in var/, files in var/media, a Celery broker on the local
file system (kombu's filesystem transport), the console e-mail backend.
Production: DATABASE_URL, REDIS_URL, and AWS_STORAGE_BUCKET_NAME (+ AWS_* / AWS_S3_ENDPOINT_URL) for
S3-compatible storage.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DJANGO_DEBUG", False)
# The embedded default key is only for a local demo (make run turns DEBUG on); with DEBUG off the process refuses to
# start without DJANGO_SECRET_KEY: sessions and password-reset links signed with a published key can be forged.
DEMO_SECRET_KEY = "insecure-local-demo-key-change-me-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEMO_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEMO_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set: the demo key is public and only allowed with DJANGO_DEBUG=1 (README: production)."
    )
ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
# Demo logins and demo data exist only where this is on (make run sets it); never with production settings.
DEMO_MODE = env_bool("DEMO_MODE", False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_ratelimit",
    # Two-factor sign-in (backfill_portal/two_factor.py): TOTP devices and recovery codes (static tokens). Before
    # projects, whose admin unregisters their own admin pages (a device's page would show its secret).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "projects",
    "publicity",
    "review",
    "corrections",
    "inspections",
    "integrity",
    "reporting",
    "demo",
    "imports",
    "api",
]

MIDDLEWARE = [
    # Outermost: with DEBUG on (the demo), the portal's own Chinese error pages instead of Django's debug pages.
    "backfill_portal.errors.ChineseErrorPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "backfill_portal.middleware.RefuseNulBytesMiddleware",
    "backfill_portal.middleware.RefuseEmptyAdminToFieldMiddleware",
    # A cached public page for a visitor without a session cookie, before the rest (publicity/page_cache.py).
    "publicity.page_cache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "backfill_portal.sessions.IdleSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before the first-login password change: a second factor first, then anything else.
    "backfill_portal.two_factor.TwoFactorMiddleware",
    "backfill_portal.passwords.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "backfill_portal.middleware.FixedPolicyCSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backfill_portal.urls"
WSGI_APPLICATION = "backfill_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "projects.context_processors.inbox",
                "projects.context_processors.policy",
                "backfill_portal.context_processors.portal_contact",
                "backfill_portal.context_processors.demo_mode",
                "backfill_portal.sessions.session_timeout",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Wait for a writer instead of failing at once: the web server and the Celery worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg prepares a statement that a cursor binding on the server ran this many times on one connection (its own
    # default, 5): only backfill_portal.database's cursor binds on the server, for the public lists' kept queries
    # (backfill_portal/compiled_queries.py), the 业绩 pages and the API's 业绩 lookup, so PostgreSQL plans each of
    # them once per connection. Django's default (empty: None) prepares nothing, for a connection pooler
    # in transaction mode that cannot pass prepared statements on (docs/architecture.md).
    _prepare_threshold = os.environ.get("DATABASE_PREPARE_THRESHOLD", "5").strip()
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        int(_prepare_threshold) if _prepare_threshold else None
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Passwords (GB/T 22239 身份鉴别: complexity): at least 8 characters of three of the four classes (upper case, lower
# case, digits, symbols), not like the username or name, not a common password. Django's messages are in Chinese
# through its own translations; the length message and the classes rule are ours (backfill_portal/passwords.py).
# A password an administrator set must be changed at the first login (PasswordChangeRequiredMiddleware).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "backfill_portal.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "backfill_portal.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Behind a reverse proxy: the proxies' addresses or networks (comma-separated), or their number. The client's address
# is then read from X-Forwarded-For through them only (projects/client_address.py); the throttles, the login lockout
# and the audit trail all use it. Unset: REMOTE_ADDR, and X-Forwarded-For is ignored.
TRUSTED_PROXIES = [
    proxy.strip() for proxy in os.environ.get("TRUSTED_PROXIES", "").split(",") if proxy.strip()
]
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
RATELIMIT_IP_META_KEY = "projects.client_address.client_ip"
AXES_CLIENT_IP_CALLABLE = "projects.client_address.client_ip"

# Sessions end after this many idle minutes (backfill_portal/sessions.py); signed-in pages warn this many seconds
# before (static/js/session_timeout.js).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
SESSION_WARNING_SECONDS = int(os.environ.get("SESSION_WARNING_SECONDS", "120"))

# Two-factor sign-in (GB/T 22239 身份鉴别: 两种或两种以上组合的鉴别技术; backfill_portal/two_factor.py). Any user may
# turn it on; these roles must (projects.permissions.must_use_two_factor): "reviewer", "agency_reviewer" (a
# drawing-review agency's reviewer), "city", and "administrator"
# (the three administrators and superusers). Off in DEMO_MODE for the demo logins (the demo banner says so).
OTP_REQUIRED_BY_DEFAULT = "reviewer,agency_reviewer,city,administrator"
OTP_REQUIRED_FOR_ROLES = [
    role.strip()
    for role in os.environ.get("OTP_REQUIRED_FOR_ROLES", OTP_REQUIRED_BY_DEFAULT).split(",")
    if role.strip()
]
# The name an authenticator app shows beside the account (the otpauth URI's issuer).
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "重庆市建设工程项目信息补录系统")
# django-otp's own throttle (1, 2, 4, 8… seconds after successive wrong codes) stays on; on top of it, after this many
# wrong codes in a row the second step is locked for AXES_COOLOFF_HOURS, as a password login is.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
TWO_FACTOR_FAILURE_LIMIT = int(
    os.environ.get("TWO_FACTOR_FAILURE_LIMIT", os.environ.get("AXES_FAILURE_LIMIT", "5"))
)
TWO_FACTOR_RECOVERY_CODES = 10

# Login lockout (django-axes): lock the username+IP pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"


# Evidence lives in private storage: never under a public URL, served only through a permission check.
def private_storage_settings(environ) -> dict:
    """S3-compatible storage where AWS_STORAGE_BUCKET_NAME is set (credentials from boto3's usual sources:
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), else files under VAR_DIR/private. A function, so that
    tests/test_s3_storage.py builds the storage from the same code against a real S3-compatible server."""
    if environ.get("AWS_STORAGE_BUCKET_NAME"):
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": environ["AWS_STORAGE_BUCKET_NAME"],
                "endpoint_url": environ.get("AWS_S3_ENDPOINT_URL") or None,
                "region_name": environ.get("AWS_S3_REGION_NAME") or None,
                "default_acl": "private",
                "file_overwrite": False,
                "querystring_auth": True,
                "querystring_expire": int(environ.get("AWS_QUERYSTRING_EXPIRE", "60")),
            },
        }
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "private"), "base_url": None},
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": private_storage_settings(os.environ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads. Django >= 5.2.14 enforces these limits (a 2026 fix); the web server in front must limit too.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
# Bulk import (docs/import.md): the workbook's bytes, what its zip members may inflate to, the projects per workbook.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
IMPORT_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_BYTES", str(200 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "2000"))
# A running import whose heartbeat is older than this had its worker die: the sweep runs it again (docs/import.md).
IMPORT_STALL_SECONDS = float(os.environ.get("IMPORT_STALL_SECONDS", "300"))
IMPORT_SWEEP_SECONDS = float(os.environ.get("IMPORT_SWEEP_SECONDS", "60"))
# The evidence zip uploaded with a workbook.
IMPORT_MAX_ZIP_BYTES = int(os.environ.get("IMPORT_MAX_ZIP_BYTES", str(200 * 1024 * 1024)))
DATA_UPLOAD_MAX_NUMBER_FILES = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Rule tolerances (warnings, not errors): the share by which a contract may differ from the award,
# and the actual area from the registered area.
RULE_CONTRACT_AMOUNT_TOLERANCE = float(os.environ.get("RULE_CONTRACT_AMOUNT_TOLERANCE", "0.10"))
RULE_AREA_TOLERANCE = float(os.environ.get("RULE_AREA_TOLERANCE", "0.10"))

# Cache: Redis where REDIS_URL is set (shared, atomic increments), else the database cache table.
REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache is never in the critical path (docs/architecture.md, "When the cache or the broker is down"): each call to
# Redis waits at most CACHE_TIMEOUT_SECONDS (to connect, then for an answer); a failed call is logged and answered as
# a miss, and the cache is then skipped for CACHE_RETRY_AFTER_SECONDS before it is tried again.
CACHE_TIMEOUT_SECONDS = float(os.environ.get("CACHE_TIMEOUT_SECONDS", "0.25"))
CACHE_RETRY_AFTER_SECONDS = float(os.environ.get("CACHE_RETRY_AFTER_SECONDS", "5"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "backfill_portal.cache.FailSafeRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "backfill_portal.cache.CounterDatabaseCache", "LOCATION": "cache_table"}}

# Celery: Redis where REDIS_URL is set; otherwise kombu's filesystem transport, a broker that needs no server.
# A broker that is down or silent never holds a request or a transaction (docs/architecture.md, "When the cache or
# the broker is down"): a publish waits at most BROKER_TIMEOUT_SECONDS per try (to connect, then for an answer),
# tries twice, then raises, and the caller (always after its commit) logs it and leaves the work to the beat
# sweeps. The worker and beat reconnect for as long as it takes.
BROKER_TIMEOUT_SECONDS = float(os.environ.get("BROKER_TIMEOUT_SECONDS", "2"))
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
if REDIS_URL:
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
    # socket_timeout outlasts the worker's blocking read (BRPOP, 1 s), or an idle worker would time out.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
        "socket_timeout": max(BROKER_TIMEOUT_SECONDS, 2.0),
    }
else:
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@backfill-portal.local")
# For the SMTP backend (password-reset e-mails).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
if os.environ.get("EMAIL_FILE_PATH"):  # for django.core.mail.backends.filebased.EmailBackend
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]

# HTTPS: on whenever DEBUG is off, each with its own variable to turn it off (README: production environment) —
# DJANGO_SECURE_SSL_REDIRECT=0 where TLS ends at a proxy on the same host that redirects itself, all three off for a
# benchmark on loopback (bench/*.py). SECURE_PROXY_SSL_HEADER: the proxy's header saying the client used HTTPS, e.g.
# "HTTP_X_FORWARDED_PROTO,https" (only behind a proxy that sets it and strips the client's own).
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = not DEBUG and env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG and env_bool("DJANGO_SECURE_COOKIES", True)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000")) if not DEBUG else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    _header, _, _value = os.environ["DJANGO_SECURE_PROXY_SSL_HEADER"].partition(",")
    SECURE_PROXY_SSL_HEADER = (_header.strip(), _value.strip())

# Content-Security-Policy on every page (django-csp): the portal's own scripts, styles and images only; no inline
# script or style anywhere (templates link static files). Evidence responses set a stricter one of their own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# The public notice (公示): its length, and whether calendar or official working days count (publicity/timing.py).
NOTICE_DAYS = int(os.environ.get("NOTICE_DAYS", "10"))
NOTICE_DAY_MODE = os.environ.get("NOTICE_DAY_MODE", "calendar")  # "calendar" or "working"
if NOTICE_DAY_MODE not in {"calendar", "working"}:
    raise ValueError("NOTICE_DAY_MODE must be 'calendar' or 'working'")
# 民法典 第二百零三条 moves a period's last day that falls on a statutory rest day to the day after the rest ends.
# Whether a 公示 follows it is a policy choice: off by default (docs/lifecycle.md, "Timers").
NOTICE_HOLIDAY_EXTENDS_END = os.environ.get("NOTICE_HOLIDAY_EXTENDS_END", "0") == "1"
# Whether an approved design record (渝建〔2018〕103号) is publicly noticed before it enters the library. Yes by
# default: 213号 notices every backfill before entry, and 103号 says nothing against it (docs/lifecycle.md,
# "Design records"). Off, an approved design record is frozen and sent to the library at once.
DESIGN_PROJECTS_NOTICED = os.environ.get("DESIGN_PROJECTS_NOTICED", "1") == "1"
# The review time limit: working days of the official calendar a submitted record may wait for a decision. The
# work queue marks a record overdue past it, the 受理回执 prints it with its last day, the progress timeline
# measures the review against it (docs/lifecycle.md, "The review time limit"). The one setting of it: the calendar
# days of REVIEW_TIME_LIMIT_DAYS that the receipt and timeline once used are refused rather than silently ignored.
if "REVIEW_TIME_LIMIT_DAYS" in os.environ:
    raise ImproperlyConfigured(
        "REVIEW_TIME_LIMIT_DAYS is gone: the review time limit is REVIEW_TIME_LIMIT_WORKING_DAYS, in working days "
        "of the official calendar (docs/lifecycle.md)."
    )
REVIEW_TIME_LIMIT_WORKING_DAYS = int(os.environ.get("REVIEW_TIME_LIMIT_WORKING_DAYS", "20"))
# How often beat sweeps expired notices and due deliveries (seconds).
PUBLICITY_SWEEP_SECONDS = float(os.environ.get("PUBLICITY_SWEEP_SECONDS", "60"))

# The national platform (its simulator in development and tests: python -m simulator).
NATIONAL_PLATFORM_URL = os.environ.get("NATIONAL_PLATFORM_URL", "http://127.0.0.1:8900")
NATIONAL_PLATFORM_API_KEY = os.environ.get("NATIONAL_PLATFORM_API_KEY", "dev-national-key")
NATIONAL_PLATFORM_TIMEOUT = float(os.environ.get("NATIONAL_PLATFORM_TIMEOUT", "10"))
# Delivery: retries with exponential backoff and jitter, then a permanent failure shown in the console.
# 数据等级 (DataLevel) sent with every record, by the kind of the authority that reviewed it. The standard's
# definitions of A/B/C/D are not public (docs/national-standard.md): all our reviewers are district-level, C.
NATIONAL_DATA_LEVELS = {"district": "C", "county": "C", "zone": "C"}
# Transient failures (5xx, timeouts, refused connections) are retried for a time, not a number of attempts: a
# national outage of hours must not fail every record in flight (docs/lifecycle.md, "Delivery"). 72 hours covers a
# long weekend's outage; then the message is given up and the alarm goes to OPERATIONS_EMAIL and the console.
OUTBOX_RETRY_FOR_SECONDS = float(os.environ.get("OUTBOX_RETRY_FOR_SECONDS", str(72 * 3600)))
OPERATIONS_EMAIL = os.environ.get("OPERATIONS_EMAIL", "ops@backfill-portal.local")
OUTBOX_BACKOFF_BASE_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_BASE_SECONDS", "5"))
OUTBOX_BACKOFF_MAX_SECONDS = float(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", "3600"))
# A delivery in progress holds a lease; a worker killed mid-delivery leaves it to expire, then the sweep
# hands the message to another worker (Redis would only redeliver after its visibility timeout).
OUTBOX_LEASE_SECONDS = float(os.environ.get("OUTBOX_LEASE_SECONDS", "120"))

# How long a Celery worker process keeps its database connection between tasks (backfill_portal/celery.py).
WORKER_DATABASE_CONN_MAX_AGE = int(os.environ.get("WORKER_DATABASE_CONN_MAX_AGE", "300"))
# The most messages one run of the delivery sweep hands to the worker.
OUTBOX_SWEEP_BATCH = int(os.environ.get("OUTBOX_SWEEP_BATCH", "200"))
# The most messages one task hands to a worker (publicity.tasks.deliver_outbox_batch), each still delivered and
# recorded on its own: a task's round trip through the broker (publish, fetch, acknowledge, the result) is paid once
# for several deliveries (docs/architecture.md, "Delivery to the national platform").
OUTBOX_DELIVERY_BATCH = int(os.environ.get("OUTBOX_DELIVERY_BATCH", "10"))
# The audit chains (docs/security.md, "The audit chains"): events of no project spread over this many chains, and
# the heads anchored into the global chain this often (the window in which a chain's newest events could be
# deleted with its head wound back unseen).
AUDIT_CHAIN_SHARDS = int(os.environ.get("AUDIT_CHAIN_SHARDS", "8"))
AUDIT_ANCHOR_SECONDS = float(os.environ.get("AUDIT_ANCHOR_SECONDS", "60"))
# A sweep that has waited in the queue longer than its period is dropped (`expires`): the next one is already on its
# way, and sweeps that pile up behind a busy worker would each hand over the same messages again.
_SWEEP_OPTIONS = {"expires": PUBLICITY_SWEEP_SECONDS}

CELERY_BEAT_SCHEDULE = {
    "close-expired-notices": {
        "task": "publicity.tasks.close_expired_notices",
        "schedule": PUBLICITY_SWEEP_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    "deliver-due-outbox": {
        "task": "publicity.tasks.deliver_due_outbox",
        "schedule": PUBLICITY_SWEEP_SECONDS,
        "options": _SWEEP_OPTIONS,
    },
    # The daily read-back of every delivered record (报送核对), at night Beijing time.
    "reconcile-national-library": {
        "task": "publicity.tasks.reconcile_national_library",
        "schedule": crontab(hour=2, minute=30),
    },
    "resume-stalled-imports": {
        "task": "imports.tasks.resume_stalled_imports",
        "schedule": IMPORT_SWEEP_SECONDS,
    },
    # The anchor of the audit chains (projects/audit.py, docs/security.md "The audit chains"): the heads that moved
    # hashed into the global chain, so a chain's tail deleted with its head wound back is found by the next check.
    "anchor-audit-chains": {
        "task": "projects.tasks.anchor_audit_chains",
        "schedule": AUDIT_ANCHOR_SECONDS,
    },
    # The daily check of the audit chain (projects/retention.py), at night Beijing time; on a break: an ERROR log
    # line, an e-mail to OPERATIONS_EMAIL and the audit administrators, a banner in the console. AUDIT_VERIFY_SECONDS
    # runs it every so many seconds instead (tests).
    "verify-audit-chain": {
        "task": "projects.tasks.verify_audit_chain",
        "schedule": float(os.environ["AUDIT_VERIFY_SECONDS"])
        if os.environ.get("AUDIT_VERIFY_SECONDS")
        else crontab(hour=3, minute=15),
    },
}

# Objection form throttling (django-ratelimit): a shared cache with atomic increments — Redis where REDIS_URL is
# set. The embedded default uses the database cache with an incr() that keeps the counter's expiry and locks its
# row (backfill_portal/cache.py): Django's own re-saved the counter with a 300 s timeout.
OBJECTION_RATE = os.environ.get("OBJECTION_RATE", "5/h")
# Anonymous GETs of the public lists and library pages are cached this long (publicity/page_cache.py); any change to
# a notice or library entry invalidates them at once, the timeout only bounds how stale "days left" may be. 0 = off.
PUBLIC_PAGE_CACHE_SECONDS = int(os.environ.get("PUBLIC_PAGE_CACHE_SECONDS", "30"))
RATELIMIT_VIEW = "publicity.views.rate_limited"
# With the cache down a throttle cannot count: it refuses (429) rather than lets everything through — the password
# reset (each request an e-mail) and the objection lookup (walking references) can wait for the cache. The objection
# form alone is fail-open (publicity.views.objection_rate); the login lockout (django-axes) counts in the database and
# is not affected (docs/architecture.md, "When the cache or the broker is down").
RATELIMIT_FAIL_OPEN = False
# W001 names Django's own RedisCache "not officially supported" only because django-ratelimit's list predates it;
# its incr() is Redis INCR, atomic. Without Redis, E003 names any database cache; ours locks the counter's row.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if not REDIS_URL:
    SILENCED_SYSTEM_CHECKS.append("django_ratelimit.E003")

# The city's figures per district (reporting/figures.py; every column and threshold in docs/figures.md). An authority
# that exceeds any threshold is marked due for a circular (通报批评); exactly at a threshold is not.
FIGURES_MAX_MEDIAN_REVIEW_DAYS = float(os.environ.get("FIGURES_MAX_MEDIAN_REVIEW_DAYS", "10"))
# Backlog: records under review whose submission has waited more than FIGURES_BACKLOG_DAYS calendar days.
FIGURES_BACKLOG_DAYS = int(os.environ.get("FIGURES_BACKLOG_DAYS", "10"))
FIGURES_MAX_BACKLOG = int(os.environ.get("FIGURES_MAX_BACKLOG", "5"))
# Spot-check rates (share of checked items, 0–1), judged only once an authority has this many checked items.
FIGURES_MAX_ERROR_RATE = float(os.environ.get("FIGURES_MAX_ERROR_RATE", "0.10"))
FIGURES_MAX_FALSE_RATE = float(os.environ.get("FIGURES_MAX_FALSE_RATE", "0.05"))
FIGURES_MIN_CHECKED = int(os.environ.get("FIGURES_MIN_CHECKED", "5"))

# Integrity (integrity/selectors.py): an enterprise's integrity score is this minus the sum of its deductions (never
# below 0; deductions do not expire).
INTEGRITY_BASE_SCORE = int(os.environ.get("INTEGRITY_BASE_SCORE", "100"))

# The helpdesk shown in every page's footer, on the home page, the guide and the forgotten-password page. The
# embedded defaults name who answers without inventing a telephone number: a deployment sets its own (README).
PORTAL_CONTACT_ORGANISATION = os.environ.get(
    "PORTAL_CONTACT_ORGANISATION", "重庆市城乡建设委员会 建筑市场监管与诚信一体化工作平台运维组"
)
PORTAL_CONTACT_PHONE = os.environ.get("PORTAL_CONTACT_PHONE", "")
PORTAL_CONTACT_EMAIL = os.environ.get("PORTAL_CONTACT_EMAIL", "")
PORTAL_CONTACT_HOURS = os.environ.get("PORTAL_CONTACT_HOURS", "工作日 9:00—12:00，14:00—17:30")
PORTAL_CONTACT_NOTE = os.environ.get(
    "PORTAL_CONTACT_NOTE",
    "补录业务问题请先咨询项目所在地的区县城乡建委（开发区建设局）；账号与系统使用问题请联系平台运维组。",
)
# Password reset by e-mail (EMAIL_BACKEND above): requests per client address, django-ratelimit's rate syntax.
PASSWORD_RESET_RATE = os.environ.get("PASSWORD_RESET_RATE", "5/h")
# With DEBUG on, error pages are the portal's own (backfill_portal/errors.py) unless this is set: a developer who
# wants Django's technical pages (tracebacks, the URL list) asks for them. Tracebacks are logged either way.
DEBUG_TECHNICAL_ERROR_PAGES = env_bool("DEBUG_TECHNICAL_ERROR_PAGES", False)

# The open JSON API at /api/v1/ (docs/api.md): Django REST framework with its OpenAPI 3 schema (drf-spectacular).
# Rates in django-ratelimit's syntax ("120/m"): the public endpoints per client address (projects/client_address.py), the rest
# per user. A personal token lives at most API_TOKEN_MAX_DAYS. A JSON body is at most DATA_UPLOAD_MAX_MEMORY_SIZE
# bytes and API_MAX_JSON_DEPTH levels; a call with files at most API_MAX_UPLOAD_BYTES (api/parsers.py).
API_PUBLIC_RATE = os.environ.get("API_PUBLIC_RATE", "120/m")
API_USER_RATE = os.environ.get("API_USER_RATE", "600/m")
API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", "365"))
API_MAX_JSON_DEPTH = int(os.environ.get("API_MAX_JSON_DEPTH", "20"))
API_MAX_UPLOAD_BYTES = int(os.environ.get("API_MAX_UPLOAD_BYTES", str(32 * 1024 * 1024)))
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.PersonalTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.UserRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
    # OPTIONS describes nothing (the schema does): DRF's metadata would ask the views for serializers they do not use.
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "建设工程项目信息补录系统 开放接口",
    "DESCRIPTION": "补录、审核与公开查询的 JSON 接口（docs/api.md）。版本在路径中：/api/v1/。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    # One name for each choice set several fields share (drf-spectacular warns of a set under two names).
    "ENUM_NAME_OVERRIDES": {
        "ProjectStatusEnum": "projects.models.Status",
        "ProjectKindEnum": "projects.models.ProjectKind",
        "ProjectKindInputEnum": "api.inputs.PROJECT_KIND_VALUES",
        "EvidencePartEnum": "projects.models.EvidencePart",
        "IdDocumentTypeInputEnum": "api.inputs.ID_DOCUMENT_TYPE_VALUES",
    },
}
