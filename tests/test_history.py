"""The history pages read as plain Chinese (projects.history), and each viewer reads only what it may: the
enterprise never sees an objector's IP address, name, contact or reference, nor where reviewers acted from;
a reviewer of the record's authority and the city read it whole."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects import history, services
from projects.audit import Actor
from projects.models import AuditEvent, Status
from publicity import services as publicity_services
from publicity.models import Notice
from review import services as review_services

from .builders import PDF_BYTES, make_project

CLERK_IP, REVIEWER_IP, OBJECTOR_IP = "192.0.2.10", "198.51.100.7", "203.0.113.5"
OBJECTOR_NAME, OBJECTOR_CONTACT = "张异议", "13912345678"


@pytest.fixture
def lived(clerk, reviewer, yuzhong, open_windows):
    """A record's life: a file uploaded, submitted, returned with a comment on a field, resubmitted, approved,
    objected to (from the objector's own address), the objection dismissed."""
    enterprise = clerk.membership.enterprise
    project = make_project(enterprise, clerk, yuzhong)
    at_clerk, at_reviewer = Actor(clerk, CLERK_IP), Actor(reviewer, REVIEWER_IP)
    services.add_evidence(
        actor=at_clerk,
        project=project,
        stage_code="completion",
        uploaded_file=SimpleUploadedFile("竣工验收备案表.pdf", PDF_BYTES),
    )
    project = services.submit_project(actor=at_clerk, project=project)
    review_services.return_for_revision(
        actor=at_reviewer,
        project=project,
        comments=[{"stage": "tendering", "field": "award_amount", "text": "与中标通知书不一致"}],
    )
    project.refresh_from_db()
    project = services.submit_project(actor=at_clerk, project=project)
    review_services.approve(actor=at_reviewer, project=project)
    notice = Notice.objects.get(project=project)
    objection = publicity_services.file_objection(
        notice_id=notice.pk,
        name=OBJECTOR_NAME,
        contact=OBJECTOR_CONTACT,
        reason="竣工日期与实际不符。",
        ip_address=OBJECTOR_IP,
    )
    publicity_services.dismiss_objection(
        actor=at_reviewer, objection_id=objection.pk, outcome="经核查属实无误"
    )
    project.refresh_from_db()
    assert project.status == Status.IN_NOTICE
    return project, objection


def page(client, user, project) -> str:
    client.force_login(user)
    response = client.get(reverse("projects:project_history", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def outside_checksums(body: str) -> str:
    return re.sub(r'<details class="checksum">.*?</details>', "", body, flags=re.S)


def test_it_reads_each_event_in_plain_chinese_without_codes_dicts_booleans_or_mime_types(
    client, clerk, lived
):
    project, _objection = lived

    body = page(client, clerk, project)

    assert "上传证明材料：竣工验收备案表.pdf（竣工验收备案）" in body
    assert "退回修改：项目招投标·中标金额（元）：与中标通知书不一致" in body
    assert "提交审核：第2次提交审核" in body and "审核通过" in body and "开始公示" in body
    assert "<strong>状态</strong>：<del>已提交待审核</del> → <ins>公示中</ins>" in body
    assert re.search(r"<strong>公示截止时间</strong>：<ins>\d{4}-\d{2}-\d{2} 24:00</ins>", body)
    events = AuditEvent.objects.filter(project=project)
    for code in {event.action for event in events}:
        assert code not in body, code
    visible = outside_checksums(body)
    for leaked in ("application/pdf", "True", "False", "{'", "[{", "'text'"):
        assert leaked not in visible, leaked
    evidence_hash = project.evidence.get(original_name="竣工验收备案表.pdf").sha256
    assert evidence_hash not in visible and evidence_hash in body  # behind 校验值 only
    assert "<summary>校验值</summary>" in body


def test_the_enterprise_never_sees_the_objector_nor_where_reviewers_acted_from(client, clerk, lived):
    project, objection = lived

    body = page(client, clerk, project)

    for secret in (OBJECTOR_IP, OBJECTOR_NAME, OBJECTOR_CONTACT, objection.reference, REVIEWER_IP):
        assert secret not in body, secret
    assert CLERK_IP in body  # its own clerks' addresses it may see
    assert "收到公众异议，公示暂停计时" in body and "公众异议经核查不成立" in body


@pytest.mark.parametrize("who", ["reviewer", "city"])
def test_the_records_reviewers_and_the_city_read_it_whole(client, request, who, lived):
    project, objection = lived
    user = request.getfixturevalue(who)

    body = page(client, user, project)

    assert OBJECTOR_IP in body and REVIEWER_IP in body and CLERK_IP in body
    assert objection.reference in body
    assert "公众" in body


def test_every_action_the_code_writes_has_a_label():
    """The vocabulary is one table: an action written anywhere in the apps reads as words, not 其他操作."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    pattern = re.compile(
        r'"((?:project|stage|evidence|review|notice|objection|national|correction|spot_check|'
        r'integrity)\.[a-z_]+)(?:\.refused)?"'
    )
    written = set()
    for app in ("projects", "publicity", "review", "corrections", "inspections", "integrity"):
        for path in (root / app).glob("*.py"):
            written |= set(pattern.findall(path.read_text()))
    written -= {"project.name", "project.note"}  # not actions: a field path in a rule, a test's own note
    missing = sorted(action for action in written if action not in history.ACTIONS)
    assert not missing, missing
