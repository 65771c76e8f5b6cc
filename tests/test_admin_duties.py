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
from tests.builders import UserFactory, make_city_user, make_enterprise_user, make_reviewer

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
    "may_change_account(clerk)": (lambda u, p: permissions.may_change_account(u, p.clerk), ". . . . Y . . Y ."),
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
