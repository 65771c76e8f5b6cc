"""The three administrators (三员分立) and who must sign in with a second factor: the policy's answers as one table
(projects.permissions, the functions after "the three administrators"), then the admin pages as a role × action
matrix — none of the three can do another's work, nobody changes or erases the audit trail, and the superuser's
use is audited.

Actors: anon, clerk (an enterprise's), rev (a reviewer), city, sys / sec / aud (the system, security and audit
administrators), su (a superuser), staff (a staff user with no membership or duty)."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from projects import permissions
from projects.models import AdministratorDuty, Duty
from tests.builders import TEST_PASSWORD, UserFactory, make_city_user, make_enterprise_user, make_reviewer

ACTORS = ("anon", "clerk", "rev", "city", "sys", "sec", "aud", "su", "staff")


def make_administrator(username, duty):
    user = UserFactory(username=username, is_staff=True)
    AdministratorDuty.objects.create(user=user, duty=duty)
    return user


@pytest.fixture
def people(authorities):
    return SimpleNamespace(
        anon=AnonymousUser(),
        clerk=make_enterprise_user(username="clerk"),
        rev=make_reviewer(authorities["500103"], username="rev"),
        city=make_city_user(username="city"),
        sys=make_administrator("sys", Duty.SYSTEM),
        sec=make_administrator("sec", Duty.SECURITY),
        aud=make_administrator("aud", Duty.AUDIT),
        su=UserFactory(username="su", is_staff=True, is_superuser=True),
        staff=UserFactory(username="staff", is_staff=True),
    )


def row(text):
    cells = text.split()
    assert len(cells) == len(ACTORS), text
    return dict(zip(ACTORS, cells, strict=True))


def outcome(check):
    try:
        check()
    except PermissionDenied as refusal:
        return str(refusal)[:2] + "…"
    return "ok"


#                                                 anon clerk rev city sys sec aud su staff
POLICY = {
    "administrator_duty": (permissions.administrator_duty, "- - - - system security audit - -"),
    "is_system_administrator": (permissions.is_system_administrator, ". . . . Y . . . ."),
    "is_security_administrator": (permissions.is_security_administrator, ". . . . . Y . . ."),
    "is_audit_administrator": (permissions.is_audit_administrator, ". . . . . . Y . ."),
    "may_manage_accounts": (permissions.may_manage_accounts, ". . . . Y . . Y ."),
    "may_manage_roles": (permissions.may_manage_roles, ". . . . . Y . Y ."),
    "may_read_audit": (permissions.may_read_audit, ". . . . . . Y Y ."),
    "may_assign_duties": (permissions.may_assign_duties, ". . . . . . . Y ."),
    "may_hold_membership": (permissions.may_hold_membership, "Y Y Y Y . . . . Y"),
    "sees_audit_alarm": (permissions.sees_audit_alarm, ". . . Y Y Y Y Y ."),
    "must_use_two_factor": (permissions.must_use_two_factor, ". . Y Y Y Y Y Y ."),
    # A system administrator changes a clerk's account, not another administrator's or a superuser's.
    "may_change_account(clerk)": (
        lambda u, p: permissions.may_change_account(u, p.clerk),
        ". . . . Y . . Y .",
    ),
    "may_change_account(aud)": (lambda u, p: permissions.may_change_account(u, p.aud), ". . . . . . . Y ."),
    "may_change_account(su)": (lambda u, p: permissions.may_change_account(u, p.su), ". . . . . . . Y ."),
    "ensure_system_administrator": (
        lambda u, p: outcome(lambda: permissions.ensure_system_administrator(u, "管理用户")),
        "只有… 只有… 只有… 只有… ok 只有… 只有… ok 只有…",
    ),
    "ensure_security_administrator": (
        lambda u, p: outcome(lambda: permissions.ensure_security_administrator(u, "管理角色")),
        "只有… 只有… 只有… 只有… 只有… ok 只有… ok 只有…",
    ),
    "ensure_audit_administrator": (
        lambda u, p: outcome(lambda: permissions.ensure_audit_administrator(u, "导出审计记录")),
        "只有… 只有… 只有… 只有… 只有… 只有… ok ok 只有…",
    ),
}
# Covered here rather than in tests/test_policy.py's fourteen-actor table (tests/test_policy.py names them).
FUNCTIONS = {name.split("(")[0] for name in POLICY}


def cell(value) -> str:
    if value is True:
        return "Y"
    if value is False:
        return "."
    return value or "-"


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(POLICY))
def test_the_policy_answers_every_actor_as_the_table_says(people, settings, name):
    settings.OTP_REQUIRED_FOR_ROLES = ["reviewer", "city", "administrator"]
    settings.DEMO_MODE = False
    check, expected = POLICY[name]
    arity = check.__code__.co_argcount if hasattr(check, "__code__") else 1

    answers = {
        actor: cell(check(getattr(people, actor), people) if arity == 2 else check(getattr(people, actor)))
        for actor in ACTORS
    }

    assert answers == row(expected)


@pytest.mark.django_db
def test_no_one_must_use_two_factor_in_the_demo_or_where_no_role_is_named(people, settings):
    settings.OTP_REQUIRED_FOR_ROLES = ["reviewer", "city", "administrator"]
    settings.DEMO_MODE = True
    assert not any(permissions.must_use_two_factor(getattr(people, actor)) for actor in ACTORS)
    settings.DEMO_MODE = False
    settings.OTP_REQUIRED_FOR_ROLES = []
    assert not any(permissions.must_use_two_factor(getattr(people, actor)) for actor in ACTORS)


# ---------------------------------------------------------------- the admin pages: role × action


@pytest.fixture
def world(people):
    from projects import audit
    from projects.models import Membership

    event = audit.record(audit.Actor(people.clerk, "192.0.2.1"), "project.note", None, message="一条审计记录")
    return SimpleNamespace(
        people=people,
        enterprise=people.clerk.membership.enterprise,
        membership=Membership.objects.get(user=people.clerk),
        event=event,
    )


def enterprise_post(w):
    return {"name": "改过的企业名称", "credit_code": w.enterprise.credit_code, "kind": w.enterprise.kind}


ADMINS = ("sys", "sec", "aud", "su", "rev")
#   (name, method, url, data)                      sys  sec  aud  su   rev
ADMIN_MATRIX = [
    ("users: list", "get", lambda w: "/admin/auth/user/", None, "200 403 403 200 403"),
    ("users: add", "get", lambda w: "/admin/auth/user/add/", None, "200 403 403 200 403"),
    (
        "users: a clerk's",
        "get",
        lambda w: f"/admin/auth/user/{w.people.clerk.pk}/change/",
        None,
        "200 403 403 200 403",
    ),
    # Another administrator's account is not the system administrator's: resetting the audit administrator's
    # password would let it act as the audit administrator.
    (
        "users: the audit administrator's password",
        "get",
        lambda w: f"/admin/auth/user/{w.people.aud.pk}/password/",
        None,
        "404 403 403 200 403",
    ),
    (
        "users: a superuser's",
        "get",
        lambda w: f"/admin/auth/user/{w.people.su.pk}/change/",
        None,
        "302 403 403 200 403",
    ),
    ("enterprises: list", "get", lambda w: "/admin/projects/enterprise/", None, "200 200 403 200 403"),
    (
        "enterprises: change one",
        "post",
        lambda w: f"/admin/projects/enterprise/{w.enterprise.pk}/change/",
        enterprise_post,
        "302 403 403 302 403",
    ),
    ("authorities: list", "get", lambda w: "/admin/projects/authority/", None, "200 200 403 200 403"),
    ("memberships: list", "get", lambda w: "/admin/projects/membership/", None, "403 200 403 200 403"),
    ("memberships: add", "get", lambda w: "/admin/projects/membership/add/", None, "403 200 403 200 403"),
    (
        "memberships: a clerk's",
        "get",
        lambda w: f"/admin/projects/membership/{w.membership.pk}/change/",
        None,
        "403 200 403 200 403",
    ),
    (
        "administrators: list",
        "get",
        lambda w: "/admin/projects/administratorduty/",
        None,
        "403 403 403 200 403",
    ),
    (
        "administrators: add",
        "get",
        lambda w: "/admin/projects/administratorduty/add/",
        None,
        "403 403 403 200 403",
    ),
    (
        "account security: list",
        "get",
        lambda w: "/admin/projects/accountsecurity/",
        None,
        "403 200 403 200 403",
    ),
    (
        "account security: reset a clerk's second step",
        "post",
        lambda w: "/admin/projects/accountsecurity/",
        lambda w: {"action": "reset_two_factor", "_selected_action": [w.people.clerk.pk]},
        "403 302 403 302 403",
    ),
    ("audit: list", "get", lambda w: "/admin/projects/auditevent/", None, "403 403 200 200 403"),
    (
        "audit: an event",
        "get",
        lambda w: f"/admin/projects/auditevent/{w.event.pk}/change/",
        None,
        "403 403 200 200 403",
    ),
    (
        "audit: change an event",
        "post",
        lambda w: f"/admin/projects/auditevent/{w.event.pk}/change/",
        lambda w: {"message": "改过", "action": "project.note", "object_type": "x", "hash": w.event.hash},
        "403 403 403 403 403",
    ),
    (
        "audit: delete an event",
        "post",
        lambda w: f"/admin/projects/auditevent/{w.event.pk}/delete/",
        lambda w: {"post": "yes"},
        "403 403 403 403 403",
    ),
    ("audit: add an event", "get", lambda w: "/admin/projects/auditevent/add/", None, "403 403 403 403 403"),
    (
        "audit: export",
        "get",
        lambda w: "/admin/projects/auditevent/export/",
        lambda w: {"format": "csv"},
        "403 403 200 200 403",
    ),
    (
        "audit: check the chain",
        "post",
        lambda w: "/admin/projects/auditevent/verify/",
        None,
        "403 403 302 302 403",
    ),
    ("audit: the checks", "get", lambda w: "/admin/projects/auditcheck/", None, "403 403 200 200 403"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name,method,url,data,expected", ADMIN_MATRIX, ids=[r[0] for r in ADMIN_MATRIX])
def test_each_administrator_does_its_own_work_only(client, world, name, method, url, data, expected):
    from projects.models import AuditEvent

    answers = {}
    for actor in ADMINS:
        client.force_login(getattr(world.people, actor))
        response = getattr(client, method)(url(world), data(world) if data else None)
        answers[actor] = str(response.status_code)
        client.logout()

    assert answers == dict(zip(ADMINS, expected.split(), strict=True))
    event = AuditEvent.objects.get(pk=world.event.pk)
    assert event.message == "一条审计记录" and event.compute_hash() == event.hash


@pytest.mark.django_db
def test_the_admin_home_lists_only_each_administrators_own_pages(client, world):
    pages = {
        "sys": {"用户", "企业", "审核主管部门"},
        "sec": {
            "用户所属单位",
            "账号安全（登录锁定与二次验证）",
        },  # organisations: read when picked, not listed
        "aud": {"审计记录", "审计链核验"},
    }
    for actor, expected in pages.items():
        client.force_login(getattr(world.people, actor))
        app_list = client.get("/admin/").context["app_list"]
        listed = {model["name"] for app in app_list for model in app["models"]}
        client.logout()
        assert listed == expected, actor


@pytest.mark.django_db
def test_a_system_administrator_sets_neither_the_superuser_flag_nor_groups(client, world):
    client.force_login(world.people.sys)

    page = client.get(f"/admin/auth/user/{world.people.clerk.pk}/change/").content.decode()

    assert 'name="is_superuser"' not in page and 'name="groups"' not in page and 'name="is_active"' in page


@pytest.mark.django_db
def test_a_security_administrator_cannot_give_an_administrator_a_membership(client, world):
    from projects.models import Role

    client.force_login(world.people.sec)
    response = client.post(
        "/admin/projects/membership/add/", {"user": world.people.aud.pk, "role": Role.CITY, "department": ""}
    )

    assert response.status_code == 200 and not hasattr(
        type(world.people.aud).objects.get(pk=world.people.aud.pk), "membership"
    )


@pytest.mark.django_db
def test_the_superusers_login_and_every_admin_change_are_audited(client, world):
    from projects.models import AuditEvent

    client.post("/accounts/login/", {"username": "su", "password": TEST_PASSWORD})
    client.post(f"/admin/projects/enterprise/{world.enterprise.pk}/change/", enterprise_post(world))
    client.logout()
    client.force_login(world.people.sys)
    client.post(
        f"/admin/projects/enterprise/{world.enterprise.pk}/change/",
        {**enterprise_post(world), "name": "再改一次"},
    )

    login = AuditEvent.objects.get(action="superuser.login")
    assert login.actor == world.people.su and login.ip_address == "127.0.0.1"
    changes = list(AuditEvent.objects.filter(action="admin.change").order_by("id"))
    assert [(e.actor_username, e.changes["as"], e.changes["model"]) for e in changes] == [
        ("su", "superuser", "projects.Enterprise"),
        ("sys", "system", "projects.Enterprise"),
    ]
    assert changes[0].changes["id"] == str(world.enterprise.pk) and "企业名称" in changes[0].changes["change"]


@pytest.mark.django_db
def test_the_security_administrator_resets_a_second_step_and_lifts_locks_audited(client, world):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from projects.models import AuditEvent

    clerk = world.people.clerk
    TOTPDevice.objects.create(user=clerk, name="app", confirmed=True, throttling_failure_count=9)
    StaticDevice.objects.create(user=clerk, name="codes")
    client.force_login(world.people.sec)
    changelist = "/admin/projects/accountsecurity/"

    assert "已开启" in client.get(changelist).content.decode()
    client.post(changelist, {"action": "unlock_two_factor", "_selected_action": [clerk.pk]})
    assert TOTPDevice.objects.get(user=clerk).throttling_failure_count == 0
    client.post(changelist, {"action": "unlock_login", "_selected_action": [clerk.pk]})
    client.post(changelist, {"action": "reset_two_factor", "_selected_action": [clerk.pk]})

    assert (
        not TOTPDevice.objects.filter(user=clerk).exists()
        and not StaticDevice.objects.filter(user=clerk).exists()
    )
    assert list(
        AuditEvent.objects.filter(actor=world.people.sec, object_id=str(clerk.pk)).values_list(
            "action", flat=True
        )
    ) == ["two_factor.unlock", "account.unlock", "two_factor.reset"]


@pytest.mark.django_db
def test_the_security_tools_refuse_anyone_else(world):
    from backfill_portal import two_factor
    from projects import administrators, audit

    for actor in (world.people.sys, world.people.aud, world.people.rev):
        for service in (two_factor.reset, two_factor.unlock, administrators.unlock_login):
            with pytest.raises(PermissionDenied, match="只有安全管理员"):
                service(actor=audit.Actor(actor), user=world.people.clerk)


@pytest.mark.django_db
def test_the_account_security_list_costs_the_same_queries_for_more_accounts(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(world.people.sec)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/projects/accountsecurity/").status_code == 200
        return len(captured)

    few = queries()
    for n in range(6):
        user = make_enterprise_user(username=f"more{n}")
        TOTPDevice.objects.create(
            user=user,
            name="app",
            confirmed=True,
            throttling_failure_count=5,
            throttling_failure_timestamp=timezone.now(),
        )
    page = client.get("/admin/projects/accountsecurity/").content.decode()

    assert queries() == few
    assert page.count("已开启") >= 6 and page.count(f"{timezone.localtime():%Y-%m-%d}") >= 6
