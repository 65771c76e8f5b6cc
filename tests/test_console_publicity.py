"""The console's public side: on a record's review page its notice, the objections to it (dismissed or upheld by a
reviewer of the record's authority) and its delivery to the national platform (a failed one sent again); and the
list of deliveries, where permanent failures are found. Each allowed case and each refusal."""

import datetime

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from projects.audit import Actor
from projects.models import AuditEvent, Status
from publicity import services
from publicity.models import Notice, NoticeState, Objection, ObjectionStatus, OutboxMessage, OutboxState
from review import services as review_services
from tests.builders import PDF_BYTES, make_project, status_of

pytestmark = pytest.mark.django_db

OUTBOX_LIST = reverse("admin:publicity_outboxmessage_changelist")


def approved(clerk, reviewer, authority, **fields):
    project = make_project(clerk.membership.enterprise, clerk, authority, status=Status.SUBMITTED, **fields)
    return review_services.approve(actor=Actor(user=reviewer), project=project)


@pytest.fixture
def noticed(clerk, reviewer, yuzhong):
    return approved(clerk, reviewer, yuzhong, name="渝中区解放碑商务楼")


@pytest.fixture
def objection(noticed):
    notice = Notice.objects.get(project=noticed)
    return services.file_objection(
        notice_id=notice.pk,
        name="张三",
        contact="13800000000",
        reason="该项目实际竣工日期与公示不符。",
        evidence=SimpleUploadedFile("证明.pdf", PDF_BYTES),
        ip_address="203.0.113.5",
    )


def fail_delivery(project, reviewer_authority_project=None):
    """The record's notice ended and its delivery failed for good (as the worker leaves it)."""
    Notice.objects.filter(project=project).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    services.close_expired_notices()
    OutboxMessage.objects.filter(project=project).update(
        state=OutboxState.FAILED,
        attempts=8,
        last_status_code=422,
        last_error='HTTP 422: {"error": "validation_failed", "problems": [{"field": "data_level"}]}',
    )
    return OutboxMessage.objects.get(project=project)


def change_url(project):
    return reverse("admin:projects_project_change", args=[project.pk])


def url(name, project, pk):
    return reverse(f"admin:projects_project_{name}", args=[project.pk, pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- the review page


def test_it_shows_the_notice_with_its_end_and_days_left(client, reviewer, noticed):
    client.force_login(reviewer)
    content = client.get(change_url(noticed)).content.decode()

    notice = Notice.objects.get(project=noticed)
    assert 'id="notice"' in content
    assert 'data-state="running"' in content
    # The end is written as on the public pages: 24:00 of the last day, never 00:00 of the next.
    local_end = timezone.localtime(notice.ends_at)
    assert local_end.time() == datetime.time.min
    assert f'id="notice-ends-at">{local_end.date() - datetime.timedelta(days=1):%Y-%m-%d} 24:00<' in content
    assert "00:00" not in content.split('id="notice-ends-at">')[1].split("<")[0]
    assert f'id="notice-days-left">{settings.NOTICE_DAYS}天' in content  # the day it starts: its whole length
    assert "暂无异议" in content


def test_it_shows_objections_with_contact_and_forms_to_the_reviewer_of_the_authority(
    client, reviewer, noticed, objection
):
    client.force_login(reviewer)
    response = client.get(change_url(noticed))
    content = response.content.decode()

    assert objection.reference in content
    assert "张三" in content and "13800000000" in content
    assert objection.reason in content
    assert url("objection_evidence", noticed, objection.pk) in content
    assert f'id="dismiss-form-{objection.pk}"' in content
    assert f'id="uphold-form-{objection.pk}"' in content
    assert 'data-state="paused"' in content


def test_it_shows_objections_to_the_city_without_forms(client, city, noticed, objection):
    client.force_login(city)
    content = client.get(change_url(noticed)).content.decode()

    assert objection.reference in content and "13800000000" in content
    assert f'id="dismiss-form-{objection.pk}"' not in content
    assert f'id="uphold-form-{objection.pk}"' not in content


def test_it_shows_no_forms_for_a_handled_objection(client, reviewer, noticed, objection):
    services.dismiss_objection(actor=Actor(user=reviewer), objection_id=objection.pk, outcome="异议不成立。")
    client.force_login(reviewer)
    content = client.get(change_url(noticed)).content.decode()

    assert f'id="dismiss-form-{objection.pk}"' not in content
    assert 'data-status="dismissed"' in content
    assert "异议不成立。" in content


def test_it_serves_the_objection_evidence_to_console_users_who_see_the_record(
    client, reviewer, other_reviewer, noticed, objection
):
    client.force_login(reviewer)
    response = client.get(url("objection_evidence", noticed, objection.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"

    client.force_login(other_reviewer)
    assert client.get(url("objection_evidence", noticed, objection.pk)).status_code == 404


# ---------------------------------------------------------------- dismiss and uphold


def test_it_dismisses_an_objection_and_resumes_the_notice(client, reviewer, noticed, objection):
    client.force_login(reviewer)
    response = client.post(
        url("dismiss_objection", noticed, objection.pk), {"outcome": "经核实，异议不成立。"}, follow=True
    )

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.DISMISSED
    assert objection.outcome == "经核实，异议不成立。"
    assert objection.handled_by == reviewer
    assert status_of(noticed) == Status.IN_NOTICE
    assert Notice.objects.get(project=noticed).state == NoticeState.RUNNING
    assert any("恢复计时" in m for m in messages_of(response))


def test_it_upholds_an_objection_and_returns_the_record(client, reviewer, noticed, objection):
    client.force_login(reviewer)
    response = client.post(
        url("uphold_objection", noticed, objection.pk), {"outcome": "经核实，竣工日期有误。"}, follow=True
    )

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.UPHELD
    assert status_of(noticed) == Status.RETURNED
    assert Notice.objects.get(project=noticed).state == NoticeState.CANCELLED
    assert not OutboxMessage.objects.exists()
    assert any("退回企业" in m for m in messages_of(response))


@pytest.mark.parametrize("action", ["dismiss_objection", "uphold_objection"])
def test_it_requires_an_outcome(client, reviewer, noticed, objection, action):
    client.force_login(reviewer)
    response = client.post(url(action, noticed, objection.pk), {"outcome": " "}, follow=True)

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING
    assert status_of(noticed) == Status.OBJECTED
    assert any("请填写处理意见" in m for m in messages_of(response))


@pytest.mark.parametrize("action", ["dismiss_objection", "uphold_objection"])
def test_it_refuses_a_reviewer_of_another_authority(client, other_reviewer, noticed, objection, action):
    client.force_login(other_reviewer)
    response = client.post(url(action, noticed, objection.pk), {"outcome": "越权处理。"}, follow=True)

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING
    assert status_of(noticed) == Status.OBJECTED
    assert any("本辖区" in m for m in messages_of(response))
    assert AuditEvent.objects.filter(action__endswith=".refused", actor=other_reviewer).exists()
    assert response.redirect_chain[-1][0] == reverse("admin:projects_project_changelist")


@pytest.mark.parametrize("action", ["dismiss_objection", "uphold_objection"])
def test_it_refuses_the_city(client, city, noticed, objection, action):
    client.force_login(city)
    client.post(url(action, noticed, objection.pk), {"outcome": "市级处理。"})

    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING


def test_it_keeps_the_enterprise_out(client, clerk, noticed, objection):
    client.force_login(clerk)
    response = client.post(url("dismiss_objection", noticed, objection.pk), {"outcome": "企业自行处理。"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING


def test_it_refuses_an_objection_of_another_record(client, reviewer, clerk, yuzhong, noticed, objection):
    other = approved(clerk, reviewer, yuzhong, name="渝中区另一工程")
    client.force_login(reviewer)

    response = client.post(url("dismiss_objection", other, objection.pk), {"outcome": "异议不成立。"})

    assert response.status_code == 404
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING


def test_it_refuses_a_get_on_the_decision_urls(client, reviewer, noticed, objection):
    client.force_login(reviewer)
    assert client.get(url("dismiss_objection", noticed, objection.pk)).status_code == 405


# ---------------------------------------------------------------- deliveries: shown, retried


def test_it_shows_a_failed_delivery_with_the_platforms_answer_and_a_retry_button(client, reviewer, noticed):
    message = fail_delivery(noticed)
    client.force_login(reviewer)
    content = client.get(change_url(noticed)).content.decode()

    assert 'data-state="failed"' in content
    assert "validation_failed" in content
    assert ">422<" in content
    assert f'id="retry-form-{message.pk}"' in content


def test_it_retries_a_failed_delivery_for_the_reviewer_of_the_authority(client, reviewer, noticed):
    message = fail_delivery(noticed)
    client.force_login(reviewer)

    response = client.post(url("retry_delivery", noticed, message.pk), follow=True)

    message.refresh_from_db()
    assert message.state == OutboxState.PENDING
    assert message.attempts == 0
    assert any("已重新报送" in m for m in messages_of(response))
    assert AuditEvent.objects.filter(action="national.retry", actor=reviewer).exists()


def test_it_retries_a_failed_delivery_for_the_city(client, city, noticed):
    message = fail_delivery(noticed)
    client.force_login(city)

    assert f'id="retry-form-{message.pk}"' in client.get(change_url(noticed)).content.decode()
    client.post(url("retry_delivery", noticed, message.pk))

    message.refresh_from_db()
    assert message.state == OutboxState.PENDING


def test_it_refuses_a_retry_to_a_reviewer_of_another_authority(client, other_reviewer, noticed):
    message = fail_delivery(noticed)
    client.force_login(other_reviewer)

    response = client.post(url("retry_delivery", noticed, message.pk), follow=True)

    message.refresh_from_db()
    assert message.state == OutboxState.FAILED
    assert message.attempts == 8
    assert any("重新报送" in m for m in messages_of(response))


def test_it_refuses_a_retry_of_a_delivery_that_has_not_failed(client, reviewer, noticed):
    Notice.objects.filter(project=noticed).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    services.close_expired_notices()
    message = OutboxMessage.objects.get(project=noticed)
    client.force_login(reviewer)

    assert f'id="retry-form-{message.pk}"' not in client.get(change_url(noticed)).content.decode()
    response = client.post(url("retry_delivery", noticed, message.pk), follow=True)

    assert any("只有报送失败的记录" in m for m in messages_of(response))


# ---------------------------------------------------------------- the list of deliveries


def test_it_lists_the_deliveries_of_the_reviewers_authority_and_filters_by_state(
    client, clerk, reviewer, other_reviewer, yuzhong, liangjiang, noticed
):
    failed = fail_delivery(noticed)
    pending_project = approved(clerk, reviewer, yuzhong, name="渝中区待报送工程")
    Notice.objects.filter(project=pending_project).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    services.close_expired_notices()
    pending = OutboxMessage.objects.get(project=pending_project)
    elsewhere = fail_delivery(approved(clerk, other_reviewer, liangjiang, name="两江新区工程"))
    client.force_login(reviewer)

    listing = client.get(OUTBOX_LIST)
    assert listing.status_code == 200
    assert {m.pk for m in listing.context["cl"].result_list} == {failed.pk, pending.pk}
    assert elsewhere.project.project_number not in listing.content.decode()

    only_failed = client.get(OUTBOX_LIST, {"state__exact": "failed"})
    assert [m.pk for m in only_failed.context["cl"].result_list] == [failed.pk]
    assert change_url(noticed) in only_failed.content.decode()  # the way to the retry button


def test_it_lists_every_authoritys_deliveries_to_the_city(
    client, city, clerk, reviewer, other_reviewer, yuzhong, liangjiang
):
    ours = fail_delivery(approved(clerk, reviewer, yuzhong))
    theirs = fail_delivery(approved(clerk, other_reviewer, liangjiang))
    client.force_login(city)

    listing = client.get(OUTBOX_LIST, {"state__exact": "failed"})
    assert {m.pk for m in listing.context["cl"].result_list} == {ours.pk, theirs.pk}


def test_it_keeps_the_deliveries_read_only(client, reviewer, noticed):
    message = fail_delivery(noticed)
    client.force_login(reviewer)
    change = reverse("admin:publicity_outboxmessage_change", args=[message.pk])

    assert client.get(change).status_code == 200
    assert client.post(change, {"state": "delivered"}).status_code == 403
    assert client.get(reverse("admin:publicity_outboxmessage_add")).status_code == 403
    assert client.post(reverse("admin:publicity_outboxmessage_delete", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.state == OutboxState.FAILED


def test_it_keeps_the_deliveries_from_the_enterprise(client, clerk, noticed):
    fail_delivery(noticed)
    client.force_login(clerk)
    response = client.get(OUTBOX_LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_retries_the_selected_failed_deliveries_from_the_list(client, clerk, reviewer, yuzhong, noticed):
    failed = fail_delivery(noticed)
    other = approved(clerk, reviewer, yuzhong, name="渝中区待报送工程")
    Notice.objects.filter(project=other).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    services.close_expired_notices()
    pending = OutboxMessage.objects.get(project=other)
    client.force_login(reviewer)

    listing = client.get(OUTBOX_LIST, {"state__exact": "failed"}).content.decode()
    assert 'value="retry_selected"' in listing

    response = client.post(
        OUTBOX_LIST,
        {"action": "retry_selected", "_selected_action": [failed.pk, pending.pk]},
        follow=True,
    )

    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == (OutboxState.PENDING, 0)
    said = messages_of(response)
    assert any("已重新报送1条" in m for m in said)
    assert any(other.project_number in m and "只有报送失败的记录" in m for m in said)
    assert AuditEvent.objects.filter(action="national.retry", actor=reviewer).count() == 1


def test_it_retries_from_the_list_only_what_the_reviewer_sees(client, other_reviewer, noticed):
    ours = fail_delivery(noticed)
    client.force_login(other_reviewer)

    client.post(OUTBOX_LIST, {"action": "retry_selected", "_selected_action": [ours.pk]})

    ours.refresh_from_db()
    assert ours.state == OutboxState.FAILED


def test_the_delivery_list_and_the_review_page_run_the_same_queries_with_1_and_12_deliveries_and_objections(
    client, clerk, reviewer, yuzhong, noticed, objection
):
    fail_delivery(approved(clerk, reviewer, yuzhong, name="渝中区第一个失败工程"))
    client.force_login(reviewer)

    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries)

    list_1, page_1 = count(OUTBOX_LIST), count(change_url(noticed))
    for n in range(11):
        fail_delivery(approved(clerk, reviewer, yuzhong, name=f"渝中区失败工程{n}"))
        services.file_objection(
            notice_id=Notice.objects.get(project=noticed).pk,
            name=f"异议人{n}",
            contact="13800000000",
            reason="该项目实际竣工日期与公示不符。",
            evidence=None,
            ip_address="203.0.113.5",
        )
    list_12, page_12 = count(OUTBOX_LIST), count(change_url(noticed))

    assert Objection.objects.filter(notice__project=noticed).count() == 12
    assert (list_1, page_1) == (list_12, page_12)
