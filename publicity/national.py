"""The national platform's HTTP API (docs/national-api.md): one call per delivery attempt."""

import os
import threading
from dataclasses import dataclass

import requests
from django.conf import settings

DATA_SOURCE_BACKFILL = 3  # 历史业绩补录


_local = threading.local()


def session() -> requests.Session:
    """One HTTP session per process and thread (a Celery worker's process delivers many messages): its connections
    to the platform are kept and reused where the platform keeps them open (HTTP/1.1 keep-alive; over TLS, no new
    handshake a call), where `requests.post` opened a new session and connection each call. Made again in a forked
    child, which must not share its parent's sockets."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.session, _local.pid = requests.Session(), os.getpid()
    return _local.session


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer (timeout, connection refused)
    body: dict
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """No answer, the platform's own trouble (5xx) or throttling (429): try again later."""
        return self.status_code is None or self.status_code >= 500 or self.status_code == 429


def send(
    *,
    kind: str,
    project_number: str,
    version: int,
    payload: dict,
    data_level: str,
    idempotency_key: str,
    national_id: str = "",
) -> Answer:
    headers = {
        "X-Api-Key": settings.NATIONAL_PLATFORM_API_KEY,
        "Idempotency-Key": idempotency_key,
        "Content-Type": "application/json",
    }
    body = {
        "project_number": project_number,
        "version": version,
        "data_source": DATA_SOURCE_BACKFILL,
        "data_level": data_level,
        "payload": payload,
    }
    base = settings.NATIONAL_PLATFORM_URL.rstrip("/")
    try:
        if kind == "update":
            response = session().put(
                f"{base}/api/v1/projects/{national_id}",
                json=body,
                headers=headers,
                timeout=settings.NATIONAL_PLATFORM_TIMEOUT,
            )
        else:
            response = session().post(
                f"{base}/api/v1/projects",
                json=body,
                headers=headers,
                timeout=settings.NATIONAL_PLATFORM_TIMEOUT,
            )
    except requests.RequestException as error:
        return Answer(None, {}, f"{type(error).__name__}: {error}"[:1000])
    try:
        data = response.json()
    except ValueError:
        data = {"text": response.text[:1000]}
    return Answer(response.status_code, data if isinstance(data, dict) else {"data": data})


def read(national_id: str) -> Answer:
    """The record as the platform holds it now (the read-back of docs/national-api.md)."""
    base = settings.NATIONAL_PLATFORM_URL.rstrip("/")
    try:
        response = requests.get(
            f"{base}/api/v1/projects/{national_id}",
            headers={"X-Api-Key": settings.NATIONAL_PLATFORM_API_KEY},
            timeout=settings.NATIONAL_PLATFORM_TIMEOUT,
        )
        data = response.json()
    except (requests.RequestException, ValueError) as error:
        return Answer(None, {}, f"{type(error).__name__}: {error}"[:1000])
    return Answer(response.status_code, data if isinstance(data, dict) else {"data": data})
