"""No parameter makes a server error: a property-based fuzz (hypothesis) of every page the URL configuration has —
its path ids and its query parameters — for every role.

Every GET route is taken from the resolver itself (a new page is fuzzed without being listed here); its converters
are filled with hostile values (digits int() or the database refuse, huge numbers, format and control characters,
dates that do not exist), and the query string with the parameters the pages and the admin's filters read plus
made-up ones. Any answer is fine but a 5xx. Bounded so that the six roles take about a minute: per route and
role two pinned examples and FUZZ_EXAMPLES drawn ones, derandomised (the same on every run); `FUZZ_EXAMPLES=50`
explores further locally.
tests/test_hostile_urls.py keeps the cases found so far as plain examples.
"""

import os
import re
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from projects import services as project_services
from projects.audit import Actor
from projects.models import CityDepartment
from tests.builders import make_city_user, make_enterprise_user, make_project, make_reviewer

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))  # drawn per route and role, besides the pinned two
# Logging out ends the role's session; everything else answers a GET with a page, a redirect, a 4xx or a 405.
SKIPPED_ROUTES = {"accounts/logout/", "admin/logout/", "bench/bare/"}
CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")


def get_routes() -> list[str]:
    routes = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if not isinstance(pattern.pattern, RoutePattern):
                continue  # the admin's two regex catch-alls: covered by the routes beside them
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route not in SKIPPED_ROUTES:
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


ROUTES = get_routes()

# Parameters the pages read (forms, request.GET, the admin's filters, search and ordering), and the admin's own.
PARAMETERS = [
    "q", "page", "p", "o", "status", "authority", "project_type", "date_from", "date_to", "reference", "overdue",
    "project", "order", "item", "credit_code", "name", "scope", "finding", "stage", "enterprise", "state", "kind",
    "role", "seed", "all", "e", "_changelist_filters", "_to_field", "_popup", "status__exact", "kind__exact",
    "state__exact", "role__exact", "project_type__exact", "submitted_at__gte", "submitted_at__lt",
    "enterprise__id__exact", "authority__id__exact", "project__authority__id__exact", "id__in", "pk", "next",
]  # fmt: skip

HOSTILE_WORDS = [
    "", " ", "0", "-1", "1", "2", "²", "１２", "٣", "⅓", "1e9", "1.5", "NaN", "inf", "9" * 25, str(2**63), str(2**63 - 1),
    str(-(2**63) - 1), "2026-02-30", "9999-99-99", "0001-01-01", "2026-13-01", "' OR '1'='1", "1;DROP TABLE x",
    "<script>", "../..", "%", "%%", "\\", "true", "yes", "\u202e", "\u200b", "\ufeff", "\x7f", "\x01", "\t", "a" * 300,
    "YY2026-0001", "NP-1", "GZ0001", "5001039999999999", "-", "_", ".", "..",
]  # fmt: skip

words = st.sampled_from(HOSTILE_WORDS)
hostile_text = st.one_of(
    words,  # three times as likely as the others: the values that found real failures
    words,
    words,
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    # Any character but NUL (refused with a 400 by RefuseNulBytesMiddleware before any view) and surrogates.
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20),
)
small_ids = st.integers(min_value=1, max_value=6).map(str)  # ids that exist, so the page is reached


def path_value(kind):
    if kind == "int":
        # The int converter takes ASCII digits only; anything else is already a 404 at the resolver.
        return st.one_of(small_ids, st.integers(min_value=0, max_value=2**80).map(str))
    return st.one_of(small_ids, hostile_text.filter(lambda text: text and "/" not in text))


def requests_to(route):
    """A GET of `route`: each converter filled, and every known parameter given a value in the same request (a
    page ignores those it does not read, so one request tries them all), plus up to two made-up ones."""

    @st.composite
    def request(draw):
        def fill(match):
            return quote(draw(path_value(match.group("kind") or "str")), safe="")

        path = "/" + CONVERTER.sub(fill, route)
        query = [(name, draw(hostile_text)) for name in PARAMETERS]
        query += draw(st.lists(st.tuples(hostile_text, hostile_text), max_size=2))
        return path, query

    return request()


# Tried on every route as well, whatever hypothesis draws: every parameter and every non-int converter at once.
# A superscript two passes str.isdigit() and fails int(); 25 nines pass int() and overflow the database's integer.
PINNED_WORDS = ["²", "9" * 25]


def pinned(route, word):
    path = "/" + CONVERTER.sub(lambda m: "1" if m.group("kind") == "int" else quote(word, safe=""), route)
    return path, [(name, word) for name in PARAMETERS]


@pytest.fixture
def people(authorities, open_windows, django_user_model):
    clerk = make_enterprise_user(username="clerk")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"], name="渝中区综合楼")
    project_services.submit_project(actor=Actor(user=clerk), project=project)
    make_project(clerk.membership.enterprise, clerk, authorities["500103"], name="渝中区草稿")
    return {
        "anonymous": None,
        "enterprise": clerk,
        "reviewer": make_reviewer(authorities["500103"], username="yz-reviewer"),
        "other reviewer": make_reviewer(authorities["500104"], username="ddk-reviewer"),
        "city": make_city_user(username="city", department=CityDepartment.APPROVAL_CENTER),
        "superuser": django_user_model.objects.create_superuser("root", "root@example.cn", "x"),
    }


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ROLES = ["anonymous", "enterprise", "reviewer", "other reviewer", "city", "superuser"]


def test_the_fuzz_reaches_every_kind_of_page():
    assert len(ROUTES) > 100
    assert {"notices/<int:notice_id>/", "admin/projects/project/", "projects/<int:pk>/"} <= set(ROUTES)


@pytest.mark.parametrize("role", ROLES)
def test_no_path_id_or_query_parameter_makes_a_server_error(people, role):
    client = Client(raise_request_exception=False)
    if people[role] is not None:
        client.force_login(people[role])

    # Every route, a few examples each: drawing routes at random would leave most of them untried in a minute.
    for route in ROUTES:

        @FUZZ_SETTINGS
        @given(requests_to(route))
        @example(pinned(route, PINNED_WORDS[0]))
        @example(pinned(route, PINNED_WORDS[1]))
        def never_a_server_error(request):
            path, query = request
            url = f"{path}?{urlencode(query)}"
            response = client.get(url)
            assert response.status_code < 500, f"{response.status_code} from {url!r} as {role}"

        never_a_server_error()
