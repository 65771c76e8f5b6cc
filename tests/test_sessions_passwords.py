"""Sessions end after 30 idle minutes, with a warning before; passwords of three character classes, not like the
username, not common; a password an administrator set is changed at the first login (GB/T 22239)."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from backfill_portal.sessions import REFRESHED_AT
from projects.models import AdministratorSetPassword
from tests.builders import make_enterprise_user

pytestmark = pytest.mark.django_db

PASSWORD = "Chongqing-2026"


@pytest.fixture
def clerk(db):
    user = make_enterprise_user(username="clerk")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def administrator(django_user_model):
    return django_user_model.objects.create_superuser("sysadmin", "sysadmin@example.cn", "Admin-pass-2026")


def sign_in(client, username="clerk", password=PASSWORD):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return response


def the_session():
    return Session.objects.get()


# ---------------------------------------------------------------- idle sessions


def test_a_session_lasts_30_idle_minutes(client, clerk):
    assert settings.SESSION_COOKIE_AGE == 30 * 60

    sign_in(client)

    left = the_session().expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)


def test_a_request_pushes_the_end_back_at_most_once_a_minute(client, clerk, django_assert_num_queries):
    sign_in(client)
    client.get(reverse("projects:project_list"))
    first_end = the_session().expire_date

    # Within the minute: nothing written.
    client.get(reverse("projects:project_list"))
    assert the_session().expire_date == first_end

    # Ten minutes on (the session's clock set back): the end moves to 30 minutes from now.
    session = client.session
    session[REFRESHED_AT] -= 600
    session.save()
    Session.objects.update(expire_date=timezone.now() + datetime.timedelta(minutes=20))
    client.get(reverse("projects:project_list"))
    left = the_session().expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < left <= datetime.timedelta(minutes=30)


def test_after_30_idle_minutes_the_user_is_signed_out(client, clerk):
    sign_in(client)
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get(reverse("projects:project_list"))

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_signed_in_pages_carry_the_warning_script_and_public_ones_do_not(client, clerk, administrator):
    assert "session_timeout.js" not in client.get(reverse("login")).content.decode()

    for user, url in ((clerk, reverse("projects:project_list")), (administrator, reverse("admin:index"))):
        client.force_login(user)
        page = client.get(url).content.decode()
        tag = re.search(r'<script src="[^"]*session_timeout\.js"[^>]*>', page)
        assert tag, url
        assert 'data-idle-seconds="1800"' in tag.group(0) and 'data-warning-seconds="120"' in tag.group(0)


# ---------------------------------------------------------------- password rules


@pytest.mark.parametrize(
    "password, why",
    [
        ("Ab1-xyz", "至少包含 8 个字符"),  # too short (Django's message, in Chinese)
        ("abcdefgh12", "至少3类"),  # two classes
        ("ABCDEFGH!!", "至少3类"),
        ("Password1", "太常见"),  # common
        ("Clerk2026x", "太相似"),  # like the username
    ],
)
def test_a_weak_password_is_refused_in_chinese(clerk, password, why):
    clerk.username = "clerk2026"
    with translation.override("zh-hans"):
        with pytest.raises(ValidationError) as refused:
            password_validation.validate_password(password, user=clerk)
        messages = refused.value.messages  # lazy: read them in Chinese

    assert any(why in message for message in messages), messages


@pytest.mark.parametrize("password", ["Chongqing-2026", "yuzhong#2026", "渝中区Jiefangbei1", "Qx7#mP2v"])
def test_a_password_of_three_classes_is_accepted(clerk, password):
    password_validation.validate_password(password, user=clerk)


def test_the_rules_are_shown_on_the_password_pages():
    texts = password_validation.password_validators_help_texts()
    assert "密码须包含大写字母、小写字母、数字、符号四类中的至少3类。" in texts


# ---------------------------------------------------------------- a password an administrator set


def test_a_password_an_administrator_set_must_be_changed_at_the_first_login(client, administrator, clerk):
    client.force_login(administrator)
    url = reverse("admin:auth_user_password_change", args=[clerk.pk])
    response = client.post(url, {"password1": "Temp-pass-2026", "password2": "Temp-pass-2026"})
    assert response.status_code == 302
    assert AdministratorSetPassword.objects.filter(user=clerk).exists()
    client.logout()

    sign_in(client, password="Temp-pass-2026")
    response = client.get(reverse("projects:project_list"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    page = client.get(reverse("password_change")).content.decode()
    assert "请先修改为只有您知道的密码" in page

    response = client.post(
        reverse("password_change"),
        {
            "old_password": "Temp-pass-2026",
            "new_password1": "Mine-own-2026",
            "new_password2": "Mine-own-2026",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("projects:project_list")).status_code == 200
    assert not AdministratorSetPassword.objects.exists()


def test_a_user_an_administrator_adds_must_change_the_password_too(client, administrator):
    client.force_login(administrator)
    client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newclerk",
            "password1": "Temp-pass-2026",
            "password2": "Temp-pass-2026",
            "usable_password": "true",
        },
    )
    new = AdministratorSetPassword.objects.get(user__username="newclerk")
    assert new.set_by == administrator


def test_the_administrators_own_password_is_not_flagged(client, administrator):
    client.force_login(administrator)
    url = reverse("admin:auth_user_password_change", args=[administrator.pk])
    client.post(url, {"password1": "Other-pass-2026", "password2": "Other-pass-2026"})

    assert not AdministratorSetPassword.objects.exists()


def test_a_user_who_chose_their_own_password_is_never_sent_to_change_it(client, clerk):
    sign_in(client)
    assert client.get(reverse("projects:project_list")).status_code == 200


# ---------------------------------------------------------------- the login lockout


def test_the_lockout_is_5_failures_for_30_minutes_per_user_and_address():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 0.5  # hours
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
