"""`make run`'s demo: created only in demo mode, in every state, through the services (the audit chain holds),
safe to re-run; the logins the README prints."""

import socket

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from demo.accounts import DEMO_ENTERPRISES, usernames
from demo.records import DESIGN_PLANS, PLANS
from inspections.models import Finding, SpotCheckCampaign, SpotCheckItem
from integrity.models import Blacklisting
from projects.models import (
    AuditEvent,
    CityDepartment,
    Enterprise,
    EnterpriseKind,
    Membership,
    Project,
    ProjectKind,
    Role,
    Status,
)
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    Objection,
    OutboxMessage,
    OutboxState,
    Snapshot,
)

pytestmark = pytest.mark.django_db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_settings(settings, monkeypatch):
    """Demo mode, with the national platform on a free local port: the seed starts its own simulator there
    (in the test's temporary VAR_DIR) for its deliveries, and stops it."""
    settings.DEMO_MODE = True
    settings.NATIONAL_PLATFORM_URL = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DEMO_PASSWORD", "demo-test-pass")
    return settings


def counts() -> dict:
    models = [Project, Enterprise, Membership, AuditEvent, Snapshot, Notice, Objection, OutboxMessage]
    models += [LibraryEntry, SpotCheckCampaign, SpotCheckItem, Blacklisting]
    return {model.__name__: model.objects.count() for model in models}


def test_it_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="DEMO_MODE=1"):
        call_command("seed_demo")

    assert not Membership.objects.exists()
    assert not Project.objects.exists()


def test_it_seeds_every_state_once_and_a_rerun_adds_nothing_but_resets_the_logins(
    demo_settings, client, monkeypatch
):
    # One seed and one re-run serve both halves of this test (a seed takes about 25 s in CI): the re-run adds
    # nothing, and it resets the logins' password to the new DEMO_PASSWORD (the_logins_are_reset, below).
    call_command("seed_demo")
    seeded = counts()
    monkeypatch.setenv("DEMO_PASSWORD", "another-pass")
    call_command("seed_demo")

    assert counts() == seeded  # re-running adds nothing
    the_logins_are_reset_to("another-pass")
    call_command("verify_audit")  # raises CommandError when the chain is broken

    statuses = list(Project.objects.values_list("status", flat=True))
    assert set(statuses) == set(Status.values)
    assert {plan.state for plan in PLANS} == set(Status.values)
    assert len(statuses) == len(PLANS) + len(DESIGN_PLANS)
    assert Project.objects.values("authority").distinct().count() >= 5
    waiting = set(Project.objects.filter(status=Status.SUBMITTED).values_list("authority__name", flat=True))
    assert {"渝中区", "两江新区"} <= waiting
    # Drafts the self-check stops, returned ones with field comments, a rejection.
    drafts = Project.objects.filter(status=Status.DRAFT)
    assert drafts.filter(evidence__isnull=True).exists()
    returned = Project.objects.filter(status=Status.RETURNED)
    assert all(p.review_comments.exclude(field="").exists() for p in returned)
    # Notices with 1 to 10 days left, started in the past; a paused one with a pending objection.
    running = Notice.objects.filter(state=NoticeState.RUNNING)
    assert {notice.days_left() for notice in running} == set(range(1, 11))
    assert all(notice.starts_at < notice.snapshot.created_at for notice in running)
    paused = Notice.objects.get(state=NoticeState.PAUSED)
    assert paused.objections.filter(status="pending").exists()
    # Entries delivered through the simulator; one corrected to a second version; one still to deliver.
    entries = LibraryEntry.objects.all()
    assert entries.count() == sum(plan.state == Status.IN_NATIONAL_LIBRARY for plan in PLANS) + sum(
        state == Status.IN_NATIONAL_LIBRARY for *_, state in DESIGN_PLANS
    )
    assert all(entry.national_id.startswith("NP-") for entry in entries)
    assert sorted(entries.values_list("national_version", flat=True))[-1] == 2
    assert OutboxMessage.objects.filter(state=OutboxState.PENDING).count() == 1
    # The spot check's findings, and the enterprise blacklisted on the false one.
    findings = set(SpotCheckItem.objects.values_list("finding", flat=True))
    assert {Finding.CORRECT, Finding.ERROR, Finding.FALSE_INFORMATION, Finding.PENDING} <= findings
    listing = Blacklisting.objects.get()
    assert listing.enterprise.credit_code == DEMO_ENTERPRISES["huaxin"][0]

    # What a visitor and a reviewer see.
    for url in ["/notices/", "/library/", "/blacklist/"]:
        page = client.get(url).content.decode()
        assert "重庆" in page and ("工程" in page or "有限公司" in page), url
    assert "渝中区鹅岭公园游客中心工程" in client.get("/notices/").content.decode()
    assert "渝中区示范综合楼工程" in client.get("/library/").content.decode()
    assert "重庆华信建设工程有限公司" in client.get("/blacklist/").content.decode()
    client.force_login(get_user_model().objects.get(username="demo-reviewer-yuzhong"))
    console = client.get(reverse("admin:projects_project_changelist")).content.decode()
    assert "渝中区大坪医院门诊综合楼工程" in console
    assert "两江新区悦来会展配套酒店工程" not in console  # another authority's
    # Design records (渝建〔2018〕103号): in review with the agency, in notice, in the library, one for the city.
    design = dict(Project.objects.filter(kind=ProjectKind.DESIGN).values_list("name", "status"))
    assert {state for *_, state in DESIGN_PLANS} <= set(design.values())
    assert design["南岸区弹子石滨江步道设计"] == Status.IN_NATIONAL_LIBRARY
    assert "江北区观音桥商圈步行街改造设计" in client.get("/notices/").content.decode()
    client.force_login(get_user_model().objects.get(username="demo-review-agency"))
    queue = client.get(reverse("review:queue")).content.decode()
    assert "渝中区鹅岭公园游客中心设计" in queue and "沙坪坝区大学城图书馆扩建设计" not in queue
    client.force_login(get_user_model().objects.get(username="demo-city"))
    assert "沙坪坝区大学城图书馆扩建设计" in client.get(reverse("review:design_routing")).content.decode()


def the_logins_are_reset_to(password):
    """The logins the README prints exist, each as its role, and take `password` (the last seed's DEMO_PASSWORD)."""
    memberships = {m.user.username: m for m in Membership.objects.select_related("user", "authority")}
    assert sorted(memberships) == sorted(usernames())
    assert Enterprise.objects.count() == len(DEMO_ENTERPRISES) + 2  # and demo-design's, demo-review-agency's
    assert memberships["demo-design"].enterprise.kind == EnterpriseKind.SURVEY_DESIGN
    assert memberships["demo-review-agency"].role == Role.AGENCY_REVIEWER
    assert memberships["demo-reviewer-yuzhong"].authority.name == "渝中区"
    assert memberships["demo-reviewer-liangjiang"].authority.name == "两江新区"
    city = memberships["demo-city"]
    assert (city.role, city.department) == (Role.CITY, CityDepartment.APPROVAL_CENTER)
    users = get_user_model().objects.filter(username__in=usernames())
    assert all(user.check_password(password) for user in users)
