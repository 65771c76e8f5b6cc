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


def test_select_all_covers_every_page_of_the_filtered_list(client, records, monkeypatch):
    owner, _other, clean, broken, theirs = records
    monkeypatch.setattr("projects.views.PAGE_SIZE", 1)  # each record on a page of its own
    client.force_login(owner)
    listing = client.get(reverse("projects:project_list")).content.decode()
    assert 'id="select-all-matching"' in listing and "全选符合条件的2个项目" in listing
    assert 'id="select-page"' in listing and "js/select_all.js" in listing
    response = client.post(
        reverse("projects:project_selected"), {"action": "check", "scope": "all", "q": "", "status": ""}
    )
    page = response.content.decode()
    assert clean.project_number in page and broken.project_number in page  # not only the first page's
    assert theirs.project_number not in page and "别人的项目" not in page
    assert "可以提交" in page and "尚未上传证明材料" in page


def test_select_all_submits_what_the_filter_shows_and_passes(client, records):
    owner, _other, clean, broken, theirs = records
    client.force_login(owner)
    url = reverse("projects:project_selected")
    response = client.post(url, {"action": "submit", "scope": "all", "q": "可以提交", "status": "draft"})
    assert "已提交审核" in response.content.decode()
    assert (status_of(clean), status_of(broken), status_of(theirs)) == (
        Status.SUBMITTED,
        Status.DRAFT,
        Status.DRAFT,
    )
    # All drafts now: the submitted one no longer matches; the broken one is refused with its own result.
    page = client.post(url, {"action": "submit", "scope": "all", "status": "draft"}).content.decode()
    assert clean.project_number not in page and "未提交：自查发现" in page
    assert status_of(broken) == Status.DRAFT


def test_select_all_processes_at_most_the_limit_and_says_how_many_are_left(client, records, monkeypatch):
    owner, *_ = records
    monkeypatch.setattr("projects.views.SELECTED_LIMIT", 1)
    client.force_login(owner)
    page = client.post(
        reverse("projects:project_selected"), {"action": "check", "scope": "all"}
    ).content.decode()
    assert page.count("查看自查") == 1
    assert "另有1个符合条件的项目未处理" in page
