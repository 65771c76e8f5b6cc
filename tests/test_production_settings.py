"""Production settings come from the environment (README: production environment): HTTPS on whenever DEBUG is off,
each part with its own switch; no start with the public demo key; a Content-Security-Policy on every page.

Settings are read once per process, so each environment is tried in a fresh `python` process.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent

# The production environment the README documents (values made up; REDIS_URL is not connected to by the checks).
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "k8#Jd93!kdL0qpZ&x7v2M1nB4cR6tY9wE3uI5oP8aS0dF2gH4jK6lZ",
    "DJANGO_ALLOWED_HOSTS": "backfill.zfcxjw.cq.gov.cn",
    "DATABASE_URL": "postgres://backfill@db.internal:5432/backfill",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "TRUSTED_PROXIES": "10.0.0.5",
    "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
}
SETTINGS_SHOWN = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_AGE",
]


def run(argv, env, tmp_path):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    clean.update(
        {"DJANGO_SETTINGS_MODULE": "backfill_portal.settings", "VAR_DIR": str(tmp_path / "var"), **env}
    )
    return subprocess.run(argv, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120)


def settings_under(env, tmp_path) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {SETTINGS_SHOWN!r}}}))"
    )
    done = run([sys.executable, "-c", code], env, tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_check_deploy_with_the_documented_production_environment_prints_no_warning(tmp_path):
    done = run([sys.executable, "manage.py", "check", "--deploy"], PRODUCTION_ENV, tmp_path)

    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "WARNING" not in output and "ERROR" not in output, output
    assert "System check identified no issues" in output


def test_with_debug_off_https_is_required_everywhere(tmp_path):
    values = settings_under(PRODUCTION_ENV, tmp_path)

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True and values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and values["SECURE_HSTS_PRELOAD"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_AGE"] == 30 * 60


def test_each_https_setting_has_its_own_switch(tmp_path):
    values = settings_under(
        {
            **PRODUCTION_ENV,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_HSTS_SECONDS": "0",
        },
        tmp_path,
    )

    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0

    only_redirect_off = settings_under({**PRODUCTION_ENV, "DJANGO_SECURE_SSL_REDIRECT": "0"}, tmp_path)
    assert (
        only_redirect_off["SECURE_SSL_REDIRECT"] is False
        and only_redirect_off["SESSION_COOKIE_SECURE"] is True
    )


def test_debug_turns_https_off_for_make_run(tmp_path):
    values = settings_under({"DJANGO_DEBUG": "1"}, tmp_path)

    assert values["SECURE_SSL_REDIRECT"] is False and values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0


def test_the_process_refuses_to_start_with_the_demo_key_when_debug_is_off(tmp_path):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    done = run([sys.executable, "manage.py", "check"], env, tmp_path)

    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in done.stderr

    done = run([sys.executable, "manage.py", "check"], {"DJANGO_DEBUG": "1"}, tmp_path)
    assert done.returncode == 0, done.stderr  # make run: the demo key, with DEBUG on


# ---------------------------------------------------------------- Content-Security-Policy

TEMPLATES = ROOT / "templates"
INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "a style element": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE),
    "a javascript: link": re.compile(r"javascript:", re.IGNORECASE),
}


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_has_inline_script_or_style(path):
    text = path.read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{path.relative_to(ROOT)} has {', '.join(found)}: move it to a file under static/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/notices/", "/library/", "/blacklist/", "/accounts/login/", "/admin/login/"]
)
def test_every_html_page_carries_the_content_security_policy(url):
    response = Client().get(url, follow=True)

    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
