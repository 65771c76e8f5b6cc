"""The open API against its own OpenAPI schema (schemathesis): generated calls to every operation, valid and
invalid, as an enterprise's token and anonymous. Whatever comes in: no 500, and every response conforms to the
schema (its status is documented, its content type is JSON, its body matches the documented shape, the error
shape of api/errors.py included).

Bounded: API_SCHEMA_EXAMPLES examples per operation (default 8) in each generation mode, no shrinking, no example
database; about a minute on a 2-core machine. The calls go through the portal's whole WSGI stack (middleware
included) in the test's thread, so they see the test's records: an enterprise with a draft, a submitted record and
one in the national library, a running notice, a blacklisting.
"""

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from api import tokens
from projects.audit import Actor
from projects.models import Status
from review import services as review_services
from tests.builders import enter_library, make_enterprise_user, make_project, make_reviewer

EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_the_test_connection():
    """Calls go to the WSGI application itself, not through Django's test client, so Django's request signals would
    close the database connection after each call, and with it the test's transaction (on PostgreSQL): do what the
    test client does and keep it open."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_world(authorities, open_windows, evidence_storage, settings, keep_the_test_connection):
    settings.API_PUBLIC_RATE = settings.API_USER_RATE = "100000/m"  # the throttles are tested elsewhere
    yuzhong = authorities["500103"]
    owner = make_enterprise_user(username="schema-owner")
    enterprise = owner.membership.enterprise
    make_project(enterprise, owner, yuzhong, name="草稿")
    make_project(enterprise, owner, yuzhong, status=Status.SUBMITTED, name="已提交")
    enter_library(make_project(enterprise, owner, yuzhong, status=Status.SUBMITTED, name="已入库"))
    reviewer = make_reviewer(yuzhong, username="schema-reviewer")
    review_services.approve(
        actor=Actor(user=reviewer),
        project=make_project(enterprise, owner, yuzhong, status=Status.SUBMITTED, name="公示中"),
    )
    return {
        "Authorization": f"Bearer {tokens.create_token(actor=Actor(user=owner), name='schema', days=30)[1]}"
    }


def generated_schema() -> dict:
    """The schema /api/openapi.json serves, generated without a request (the test database does not exist yet
    while the tests are collected); test_it_tests_the_schema_the_api_serves checks it is the same."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def load_schema():
    from backfill_portal.wsgi import application

    loaded = schemathesis.openapi.from_dict(generated_schema())
    loaded.app = application  # calls go through the portal's WSGI stack, in the test's thread
    loaded.location = "/api/openapi.json"
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        no_shrink=True,
        database="none",
    )
    return loaded


# Loaded when the tests are collected (schemathesis' lazy fixture loader does not run on pytest 9).
schema = load_schema()
HYPOTHESIS = hypothesis_settings(
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
def test_it_tests_the_schema_the_api_serves(client):
    assert client.get("/api/openapi.json").json() == generated_schema()


@pytest.mark.django_db
@schema.parametrize()
@HYPOTHESIS
def test_no_call_of_an_enterprise_token_breaks_the_api(case, api_world):
    case.call_and_validate(headers=api_world, checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@HYPOTHESIS
def test_no_anonymous_call_breaks_the_api(case, api_world):
    case.headers = {
        name: value for name, value in (case.headers or {}).items() if name.lower() != "authorization"
    }
    case.call_and_validate(checks=CHECKS)
