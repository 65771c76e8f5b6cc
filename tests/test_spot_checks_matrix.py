"""Who may do what on every spot-check and integrity URL: one table, role × action.

Roles: an anonymous visitor; an enterprise user (the enterprise whose record was checked); a district reviewer; a
city user of the department the item is routed to (市审批服务中心 for a permit); a city user of another department
(设计处).

What the table says, in words:
- anonymous: every page but the public blacklist sends to the login page, with ?next= the page asked for;
- enterprises and reviewers: these are city pages (403), the public blacklist aside;
- city users: every department reads campaigns, items, findings and evidence, the register and the ledger, and
  may create and draw campaigns, list, lift and deduct; only the item's department records its finding or orders
  a correction (another department: 403, audited);
- the POST-only views answer a GET with 405, for everyone.
A refused POST changes nothing; an allowed one does what it says.
"""

import datetime
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from corrections.models import CorrectionOrder
from inspections import services as inspection_services
from inspections import urls as inspection_urls
from inspections.models import SpotCheckCampaign, SpotCheckItem
from integrity import services as integrity_services
from integrity import urls as integrity_urls
from integrity.models import Blacklisting, IntegrityDeduction
from projects.audit import Actor
from projects.models import CityDepartment
from tests.builders import (
    PDF_BYTES,
    enter_library,
    make_city_user,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db


ROLES = ("anonymous", "enterprise", "reviewer", "city_routed", "city_other")


@pytest.fixture
def world(authorities, open_windows):
    """Two records in the library, a drawn campaign (permit stage) and an undrawn one; one permit item pending,
    the other checked as false information with evidence; a listing to lift."""
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk")
    users = {
        "anonymous": None,
        "enterprise": clerk,
        "reviewer": make_reviewer(yuzhong, username="reviewer"),
        "city_routed": make_city_user(username="spzx", department=CityDepartment.APPROVAL_CENTER),
        "city_other": make_city_user(username="sjc", department=CityDepartment.DESIGN),
    }
    manager = Actor(user=users["city_routed"])
    first, second = (
        enter_library(make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, name=name))
        for name in ("甲工程", "乙工程")
    )
    today = timezone.localdate()
    arguments = {
        "authorities": [yuzhong],
        "stages": ["permit"],
        "period_start": today - datetime.timedelta(days=1),
        "period_end": today,
        "sample_size": 2,
    }
    drawn = inspection_services.create_campaign(actor=manager, name="已抽取", **arguments)
    inspection_services.draw_sample(actor=manager, campaign_id=drawn.pk, seed=3)
    undrawn = inspection_services.create_campaign(actor=manager, name="未抽取", **arguments)
    pending = SpotCheckItem.objects.get(campaign=drawn, project=first)
    false_item = SpotCheckItem.objects.get(campaign=drawn, project=second)
    inspection_services.record_finding(
        actor=manager,
        item_id=false_item.pk,
        finding="false_information",
        notes="许可证系伪造。",
        evidence=SimpleUploadedFile("核查.pdf", PDF_BYTES),
    )
    listing = integrity_services.blacklist(
        actor=manager,
        source_item_id=false_item.pk,
        reason="信息虚假",
        starts_on=today,
        ends_on=today + datetime.timedelta(days=30),
    )
    return SimpleNamespace(
        users=users,
        yuzhong=yuzhong,
        enterprise=clerk.membership.enterprise,
        drawn=drawn,
        undrawn=undrawn,
        pending=pending,
        false_item=SpotCheckItem.objects.get(pk=false_item.pk),
        listing=listing,
        today=today,
    )


# ---------------------------------------------------------------- the table


class _Login:
    def __repr__(self):
        return "LOGIN"


LOGIN = _Login()


@dataclass(frozen=True)
class Row:
    url_name: str
    kwargs: object  # world -> dict
    method: str
    expected: dict
    data: object = None  # world -> dict (POST)
    effect: object = None  # world -> a value that an allowed POST changes and a refused one does not
    done: set = field(default_factory=set)  # the roles for which the POST is allowed (else: nothing changes)


def cells(*values):
    assert len(values) == len(ROLES)
    return dict(zip(ROLES, values, strict=True))


CITY_PAGE = cells(LOGIN, 403, 403, 200, 200)
CITY_POST = cells(LOGIN, 403, 403, 302, 302)
ROUTED_POST = cells(LOGIN, 403, 403, 302, 403)
POST_ONLY = cells(405, 405, 405, 405, 405)
PUBLIC = cells(200, 200, 200, 200, 200)
BOTH_CITY = {"city_routed", "city_other"}


def none(w):
    return {}


def drawn_campaign(w):
    return {"pk": w.drawn.pk}


def undrawn_campaign(w):
    return {"pk": w.undrawn.pk}


def pending_item(w):
    return {"pk": w.pending.pk}


def false_item(w):
    return {"pk": w.false_item.pk}


def false_item_to_list(w):
    return {"item_id": w.false_item.pk}


def the_listing(w):
    return {"pk": w.listing.pk}


def the_enterprise(w):
    return {"pk": w.enterprise.pk}


def campaign_data(w):
    return {
        "name": "新建抽查",
        "authorities": [w.yuzhong.code],
        "stages": ["permit"],
        "period_start": (w.today - datetime.timedelta(days=5)).isoformat(),
        "period_end": w.today.isoformat(),
        "sample_rate": "50",
    }


def finding_data(w):
    return {"finding": "correct", "notes": ""}


def order_data(w):
    return {"due_on": (w.today + datetime.timedelta(days=10)).isoformat()}


def listing_data(w):
    return {
        "reason": "再次列入",
        "starts_on": w.today.isoformat(),
        "ends_on": (w.today + datetime.timedelta(days=60)).isoformat(),
    }


def lift_data(w):
    return {"reason": "复核撤销"}


def deduction_data(w):
    return {"points": "5", "reason": "信息虚假", "source_item": str(w.false_item.pk)}


def campaigns_count(w):
    return SpotCheckCampaign.objects.count()


def undrawn_state(w):
    return SpotCheckCampaign.objects.filter(pk=w.undrawn.pk).values_list("drawn_at", flat=True).get()


def pending_state(w):
    return SpotCheckItem.objects.filter(pk=w.pending.pk).values_list("finding", "checked_by").get()


def orders_count(w):
    return CorrectionOrder.objects.count()


def listings_count(w):
    return Blacklisting.objects.count()


def lift_state(w):
    return Blacklisting.objects.filter(pk=w.listing.pk).values_list("lifted_at", flat=True).get()


def deductions_count(w):
    return IntegrityDeduction.objects.count()


ROWS = [
    Row("inspections:campaigns", none, "get", CITY_PAGE),
    Row("inspections:campaign_create", none, "get", CITY_PAGE),
    Row("inspections:matching", none, "get", CITY_PAGE),
    Row("inspections:campaign_create", none, "post", CITY_POST, campaign_data, campaigns_count, BOTH_CITY),
    Row("inspections:campaign", drawn_campaign, "get", CITY_PAGE),
    Row("inspections:redraw", drawn_campaign, "get", CITY_PAGE),
    Row("inspections:redraw", undrawn_campaign, "get", cells(LOGIN, 403, 403, 404, 404)),
    Row("inspections:draw", undrawn_campaign, "get", POST_ONLY),
    Row("inspections:draw", undrawn_campaign, "post", CITY_POST, none, undrawn_state, BOTH_CITY),
    Row("inspections:work", none, "get", CITY_PAGE),
    Row("inspections:item", pending_item, "get", CITY_PAGE),
    Row("inspections:item", pending_item, "post", ROUTED_POST, finding_data, pending_state, {"city_routed"}),
    Row("inspections:order_correction", false_item, "get", POST_ONLY),
    Row(
        "inspections:order_correction",
        false_item,
        "post",
        ROUTED_POST,
        order_data,
        orders_count,
        {"city_routed"},
    ),
    Row("inspections:evidence", false_item, "get", CITY_PAGE),
    Row("integrity:blacklist_public", none, "get", PUBLIC),
    Row("integrity:blacklist_manage", none, "get", CITY_PAGE),
    Row("integrity:blacklist_export_xlsx", none, "get", CITY_PAGE),
    Row("integrity:blacklist_export_csv", none, "get", CITY_PAGE),
    Row("integrity:blacklist_add", false_item_to_list, "get", CITY_PAGE),
    # A listing from the same finding is in force: the add is refused on the page (200, nothing written) for
    # city users, after the role check.
    Row(
        "integrity:blacklist_add",
        false_item_to_list,
        "post",
        cells(LOGIN, 403, 403, 200, 200),
        listing_data,
        listings_count,
    ),
    Row("integrity:blacklist_lift", the_listing, "get", CITY_PAGE),
    Row("integrity:blacklist_lift", the_listing, "post", CITY_POST, lift_data, lift_state, BOTH_CITY),
    Row("integrity:enterprises", none, "get", CITY_PAGE),
    Row("integrity:ledger", the_enterprise, "get", CITY_PAGE),
    Row("integrity:ledger", the_enterprise, "post", CITY_POST, deduction_data, deductions_count, BOTH_CITY),
]

CASES = [
    pytest.param(row, role, id=f"{row.method}-{row.url_name}-{row.kwargs.__name__}-{role}")
    for row in ROWS
    for role in ROLES
]


@pytest.mark.parametrize("row, role", CASES)
def test_role_action_matrix(client, world, row, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    url = reverse(row.url_name, kwargs=row.kwargs(world))
    before = row.effect(world) if row.effect else None

    data = row.data(world) if row.data else {}
    response = client.post(url, data) if row.method == "post" else client.get(url)

    expected = row.expected[role]
    if expected is LOGIN:
        assert response.status_code == 302, response.status_code
        parts = urlsplit(response.url)
        assert parts.path == reverse("login")
        assert parse_qs(parts.query)["next"] == [url]
    else:
        assert response.status_code == expected, (response.status_code, expected)
    if row.effect:
        after = row.effect(world)
        if role in row.done:
            assert after != before, "the allowed action did nothing"
        else:
            assert after == before, "a refused action changed something"


def test_the_order_correction_row_really_orders_for_the_routed_department(client, world):
    """The table's order row acts on the false-information item: only its department creates the order."""
    client.force_login(world.users["city_routed"])
    client.post(reverse("inspections:order_correction", args=[world.false_item.pk]), order_data(world))
    order = CorrectionOrder.objects.get()
    assert order.spot_check_item == world.false_item and order.project == world.false_item.project


def test_the_table_covers_every_spot_check_and_integrity_url():
    mine = {
        f"{urls.app_name}:{pattern.name}"
        for urls in (inspection_urls, integrity_urls)
        for pattern in urls.urlpatterns
    }
    assert len(mine) == 18
    assert mine == {row.url_name for row in ROWS}
