"""Behind a real reverse proxy: Debian's nginx in front of gunicorn, both started here on loopback.

Every client of a proxy reaches the application from the proxy's address. The settings name the proxy
(TRUSTED_PROXIES), so the objection throttle and the login lockout count each client by the address nginx saw, and a
client that talks to gunicorn directly cannot pick its address with a forged X-Forwarded-For.

Clients, the proxy and the application are told apart by loopback addresses (all of 127.0.0.0/8 is local on
Linux): clients come from 127.0.0.2–4, nginx connects to gunicorn from 127.0.0.9 (`proxy_bind`).
Only on PostgreSQL: gunicorn is another process and must see the test database.
"""

import http.client
import os
import shutil
import socket
import sys
import urllib.parse
from pathlib import Path

import pytest
from django.urls import reverse

from projects.audit import Actor
from projects.models import Status
from publicity.models import Notice, Objection
from review import services as review_services
from tests.builders import make_enterprise_user, make_project, make_reviewer
from tests.processes import ChildProcess, database_url, needs_postgresql_and_redis, wait_for

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_ADDRESS = "127.0.0.9"
CSRF_TOKEN = "a" * 32  # a well-formed CSRF secret: the client sets the cookie and sends the same in the form

pytestmark = [
    needs_postgresql_and_redis,
    pytest.mark.skipif(not Path(NGINX).exists(), reason="needs Debian's nginx package (.ci/run installs it)"),
]

NGINX_CONF = """
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_bind {proxy_address};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def listening(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Client:
    """One client machine: connects from its own loopback address, to nginx or straight to gunicorn."""

    def __init__(self, address, port):
        self.address, self.port = address, port

    def post(self, path, data, *, forwarded_for=None) -> int:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.address, 0)
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={CSRF_TOKEN}",
        }
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": CSRF_TOKEN, **data})
        try:
            connection.request("POST", path, body=body, headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()


@pytest.fixture
def stack(transactional_db, tmp_path, settings):
    """gunicorn on the test database, trusting only nginx's address; nginx in front. (nginx port, gunicorn port)"""
    from django.core.cache import cache
    from django.db import connection

    cache.clear()  # throttle counts of earlier runs (Redis outlives the test database)
    gunicorn_port, nginx_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backfill_portal.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SECRET_KEY": "test-only-key-for-the-proxy-test-" + "x" * 20,
        "DJANGO_DEBUG": "0",
        # TLS would end at the proxy: plain HTTP on loopback here (README: production environment).
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "TRUSTED_PROXIES": PROXY_ADDRESS,
        "OBJECTION_RATE": "2/h",
        "VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    gunicorn = ChildProcess(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "backfill_portal.wsgi",
            "-b",
            f"127.0.0.1:{gunicorn_port}",
            "-w",
            "1",
        ],
        env,
        tmp_path / "gunicorn.log",
        ready_marker="Booting worker",
    )
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(
        NGINX_CONF.format(
            # As root, nginx's workers would switch to "nobody", who cannot read the temp dir.
            user="user root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=nginx_port,
            upstream=gunicorn_port,
            proxy_address=PROXY_ADDRESS,
        )
    )
    nginx = ChildProcess(
        "nginx",
        [
            NGINX,
            "-p",
            str(prefix),
            "-e",
            str(prefix / "error.log"),
            "-c",
            str(prefix / "nginx.conf"),
            "-g",
            "daemon off;",
        ],
        env,
        tmp_path / "nginx.log",
        ready_marker="",
    )
    try:
        gunicorn.start()
        wait_for(lambda: listening(gunicorn_port), timeout=60, what="gunicorn to listen", logs=[gunicorn])
        nginx.start()
        wait_for(lambda: listening(nginx_port), timeout=30, what="nginx to listen", logs=[nginx])
        yield nginx_port, gunicorn_port
    finally:
        nginx.stop()
        gunicorn.stop()


@pytest.fixture
def notice(authorities, settings):
    from django.conf import global_settings

    clerk = make_enterprise_user(username="clerk")
    # Hashed as gunicorn checks it (the tests' own fast hasher is not among its hashers).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    clerk.set_password("Right-pass-2026")
    clerk.save()
    reviewer = make_reviewer(authorities["500103"], username="yz-reviewer")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"], status=Status.SUBMITTED)
    review_services.approve(actor=Actor(user=reviewer), project=project)
    return Notice.objects.get(project=project)


def test_each_client_behind_the_proxy_has_its_own_objection_limit_and_forgers_are_ignored(stack, notice):
    nginx_port, gunicorn_port = stack
    path = reverse("publicity:notice_detail", args=[notice.pk])
    first, second = Client("127.0.0.2", nginx_port), Client("127.0.0.3", nginx_port)
    empty = {"name": ""}  # an invalid objection (400) still counts against the limit (2 an hour here)

    assert [first.post(path, empty) for _ in range(3)] == [400, 400, 429]
    # Another client through the same proxy: its own count, even when it claims to be someone else.
    assert second.post(path, empty, forwarded_for="127.0.0.2") == 400
    objection = {"name": "李四", "contact": "13800000000", "reason": "公示的施工单位与实际不符。"}
    assert second.post(path, objection) == 200
    assert Objection.objects.get().ip_address == "127.0.0.3"  # the address nginx saw, not the proxy's

    # Straight to gunicorn, not through the proxy: a new X-Forwarded-For each time changes nothing.
    forger = Client("127.0.0.4", gunicorn_port)
    statuses = [forger.post(path, empty, forwarded_for=f"198.51.100.{n}") for n in range(3)]
    assert statuses == [400, 400, 429]


def test_the_login_lockout_locks_out_the_guessing_client_only(stack, notice):
    from axes.models import AccessAttempt

    nginx_port, _gunicorn_port = stack
    path = reverse("login")
    guesser, owner = Client("127.0.0.2", nginx_port), Client("127.0.0.3", nginx_port)

    for _ in range(5):
        guesser.post(path, {"username": "clerk", "password": "wrong"})
    assert guesser.post(path, {"username": "clerk", "password": "Right-pass-2026"}) == 429  # locked out
    assert AccessAttempt.objects.get().ip_address == "127.0.0.2"

    # The clerk, from their own machine through the same proxy, still signs in.
    assert owner.post(path, {"username": "clerk", "password": "Right-pass-2026"}) == 302
