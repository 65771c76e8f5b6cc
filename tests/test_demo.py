"""`make run`'s demo data: created only in demo mode, safe to re-run, the logins the README prints."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from projects.models import CityDepartment, Enterprise, Membership, Role

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = ["demo-enterprise", "demo-reviewer-yuzhong", "demo-reviewer-liangjiang", "demo-city"]


def test_it_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="DEMO_MODE=1"):
        call_command("seed_demo")

    assert not Membership.objects.exists()


def test_it_creates_the_four_logins_once_however_often_it_runs(settings, monkeypatch):
    settings.DEMO_MODE = True
    monkeypatch.setenv("DEMO_PASSWORD", "demo-test-pass")

    call_command("seed_demo")
    call_command("seed_demo")

    memberships = {m.user.username: m for m in Membership.objects.select_related("user", "authority")}
    assert sorted(memberships) == sorted(DEMO_USERNAMES)
    assert Enterprise.objects.count() == 1
    assert memberships["demo-reviewer-yuzhong"].authority.name == "渝中区"
    assert memberships["demo-reviewer-liangjiang"].authority.name == "两江新区"
    city = memberships["demo-city"]
    assert (city.role, city.department) == (Role.CITY, CityDepartment.APPROVAL_CENTER)
    users = get_user_model().objects.filter(username__in=DEMO_USERNAMES)
    assert all(user.check_password("demo-test-pass") for user in users)
