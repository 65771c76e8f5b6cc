"""The one notifier (projects.notifications.notify): inbox rows now, e-mail once committed, never on rollback."""

import pytest
from django.core import mail
from django.db import transaction

from projects import notifications
from projects.audit import Actor
from projects.models import Notification, Status
from review import services as review_services
from tests.builders import make_enterprise_user, make_project, make_reviewer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(authorities, open_windows):
    clerk = make_enterprise_user(username="n-clerk", email="clerk@example.cn")
    colleague = make_enterprise_user(
        enterprise=clerk.membership.enterprise, username="n-colleague", email="colleague@example.cn"
    )
    no_address = make_enterprise_user(enterprise=clerk.membership.enterprise, username="n-quiet", email="")
    gone = make_enterprise_user(
        enterprise=clerk.membership.enterprise, username="n-gone", email="gone@example.cn", is_active=False
    )
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"], evidence=False)
    return clerk, colleague, no_address, gone, project


def test_it_writes_one_inbox_row_per_active_user_in_one_query_and_mails_after_commit(
    people, django_assert_num_queries, django_capture_on_commit_callbacks
):
    clerk, colleague, no_address, gone, project = people

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with django_assert_num_queries(1):
            rows = notifications.notify(
                [clerk, colleague, no_address, gone, clerk], project=project, title="标题", body="内容"
            )
        assert mail.outbox == []  # nothing sent before the commit

    assert len(callbacks) == 1
    assert sorted(row.recipient.username for row in rows) == ["n-clerk", "n-colleague", "n-quiet"]
    assert set(Notification.objects.values_list("project_id", "title", "body")) == {
        (project.pk, "标题", "内容")
    }
    # One message per recipient: no one sees the others' addresses.
    assert [message.to for message in mail.outbox] == [["clerk@example.cn"], ["colleague@example.cn"]]
    assert {(message.subject, message.body) for message in mail.outbox} == {
        ("[建设工程项目信息补录] 标题", "内容")
    }
    assert not any(message.cc or message.bcc for message in mail.outbox)


def test_it_tells_no_one_anything_when_the_transaction_rolls_back(people, django_capture_on_commit_callbacks):
    clerk, _colleague, _no_address, _gone, project = people

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            notifications.notify([clerk], project=project, title="被撤销的决定", body="")
            raise RuntimeError("the decision failed")

    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_it_may_notify_without_a_project_and_sends_no_mail_without_an_address(
    people, django_capture_on_commit_callbacks
):
    _clerk, _colleague, no_address, _gone, _project = people

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notifications.notify([no_address], title="抽查任务", body="请核查")

    assert callbacks == [] and mail.outbox == []
    assert Notification.objects.get().project is None


def test_nobody_to_tell_costs_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert notifications.notify([], title="无人", body="") == []


def test_the_enterprise_is_told_in_two_queries(
    people, django_assert_num_queries, django_capture_on_commit_callbacks
):
    _clerk, _colleague, _no_address, _gone, project = people

    with django_capture_on_commit_callbacks(execute=True):
        with django_assert_num_queries(2):
            notifications.notify_enterprise(project, "公示期间收到异议", "请关注")

    assert Notification.objects.filter(project=project).count() == 3
    assert [message.to for message in mail.outbox] == [["clerk@example.cn"], ["colleague@example.cn"]]


def test_a_record_with_the_longest_name_the_column_allows_is_approved_and_its_inbox_title_shortened(
    authorities, open_windows
):
    # The message's title names the project, and "项目“…”审核通过，进入公示" around a name of 200 characters is longer
    # than the inbox's title column: the decision must not fail for its message.
    clerk = make_enterprise_user(username="long-name", email="long@example.cn")
    name = "很长的项目名称" * 28 + "工程"  # 198 characters: with the words around it, 210
    project = make_project(
        clerk.membership.enterprise,
        clerk,
        authorities["500103"],
        name=name,
        status=Status.SUBMITTED,
        evidence=False,
    )
    reviewer = make_reviewer(authorities["500103"], username="long-reviewer")

    approved = review_services.approve(actor=Actor(user=reviewer), project=project)

    assert approved.status == Status.IN_NOTICE
    (row,) = Notification.objects.filter(recipient=clerk)
    assert len(row.title) == 200 and row.title.endswith("…") and row.title.startswith("项目“很长的项目名称")
    assert name in row.body  # the body keeps the name whole
