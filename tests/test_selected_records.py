"""The record list's actions on ticked records: self-check them, submit those that pass, each with its own result."""

import pytest
from django.urls import reverse

from projects.models import Status
from tests.builders import make_enterprise_user, make_project, status_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(authorities, open_windows):
    owner = make_enterprise_user(username="bulk-owner")
    enterprise = owner.membership.enterprise
    yuzhong = authorities["500103"]
    clean = make_project(enterprise, owner, yuzhong, name="可以提交的项目")
    broken = make_project(enterprise, owner, yuzhong, name="缺材料的项目")
    broken.evidence.update(archived_at="2018-06-01T00:00:00+08:00")
    other = make_enterprise_user(username="bulk-other")
    theirs = make_project(other.membership.enterprise, other, yuzhong, name="别人的项目")
    return owner, other, clean, broken, theirs


def test_it_self_checks_the_selected_records(client, records):
    owner, _other, clean, broken, _theirs = records
    client.force_login(owner)
    response = client.post(
        reverse("projects:project_selected"), {"action": "check", "selected": [clean.pk, broken.pk]}
    )
    page = response.content.decode()
    assert "可以提交" in page and "尚未上传证明材料" in page
    assert status_of(clean) == Status.DRAFT  # a check changes nothing


def test_it_submits_those_that_pass_each_with_its_own_result(client, records):
    owner, _other, clean, broken, theirs = records
    client.force_login(owner)
    response = client.post(
        reverse("projects:project_selected"),
        {"action": "submit", "selected": [clean.pk, broken.pk, theirs.pk]},
    )
    page = response.content.decode()
    assert "已提交审核" in page and "未提交：自查发现" in page
    assert "有1个所选项目不存在或不属于本单位" in page
    assert status_of(clean) == Status.SUBMITTED
    assert status_of(broken) == Status.DRAFT
    assert status_of(theirs) == Status.DRAFT
    assert "别人的项目" not in page
