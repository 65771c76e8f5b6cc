"""The review console (Django admin): who sees which records, search, the review page, and the decisions posted
from it — each allowed case and each refusal (nothing changed, the refusal audited)."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects import services as project_services
from projects.audit import Actor
from projects.models import STAGE_ORDER, AuditEvent, BackfillWindow, EnterpriseKind, ReviewComment, Status
from review import services
from review.models import Assignment, Decision, ReviewDecision
from tests.builders import add_evidence, make_city_user, make_enterprise_user, make_project, make_reviewer

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:projects_project_changelist")


def change_url(project):
    return reverse("admin:projects_project_change", args=[project.pk])


def decision_url(project, name):
    return reverse(f"admin:projects_project_{name}", args=[project.pk])


def submitted_project(clerk, authority, name="渝中区示范综合楼工程", **kwargs):
    """A clean record submitted through the service, so it has its first SubmissionVersion."""
    project = make_project(clerk.membership.enterprise, clerk, authority, name=name, **kwargs)
    return project_services.submit_project(actor=Actor(user=clerk), project=project)


@pytest.fixture
def project(clerk, yuzhong, open_windows):
    return submitted_project(clerk, yuzhong, name="渝中区解放碑商务楼")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- who sees what


def test_it_lists_only_submitted_records_of_the_reviewers_own_authority(
    client, clerk, reviewer, yuzhong, liangjiang, open_windows
):
    own = submitted_project(clerk, yuzhong, name="渝中区已提交工程")
    draft = make_project(clerk.membership.enterprise, clerk, yuzhong, name="渝中区草稿工程")
    elsewhere = submitted_project(clerk, liangjiang, name="两江新区已提交工程")

    client.force_login(reviewer)
    response = client.get(CHANGELIST)

    assert response.status_code == 200
    shown = [p.pk for p in response.context["cl"].result_list]
    assert shown == [own.pk]
    content = response.content.decode()
    assert own.name in content
    assert draft.name not in content and elsewhere.name not in content
    assert "补录项目审核" in content


def test_it_hides_a_record_of_another_authority_opened_by_url(client, project, other_reviewer):
    client.force_login(other_reviewer)
    response = client.get(change_url(project), follow=True)

    assert project.name not in response.content.decode()
    assert project.project_number not in response.content.decode()


def test_it_hides_a_draft_of_the_reviewers_own_authority(client, clerk, reviewer, yuzhong):
    draft = make_project(clerk.membership.enterprise, clerk, yuzhong, name="渝中区草稿工程")
    client.force_login(reviewer)
    response = client.get(change_url(draft), follow=True)
    assert draft.name not in response.content.decode()


def test_it_lets_the_city_view_every_district_without_decision_forms(
    client, clerk, yuzhong, liangjiang, open_windows
):
    city = make_city_user(username="city")
    own = submitted_project(clerk, yuzhong, name="渝中区已提交工程")
    elsewhere = submitted_project(clerk, liangjiang, name="两江新区已提交工程")
    client.force_login(city)

    listing = client.get(CHANGELIST)
    assert {p.pk for p in listing.context["cl"].result_list} == {own.pk, elsewhere.pk}
    assert "分派给我" not in listing.content.decode()

    page = client.get(change_url(own))
    content = page.content.decode()
    assert page.status_code == 200
    assert own.name in content
    assert 'id="approve-form"' not in content
    assert 'id="return-form"' not in content
    assert 'id="reject-form"' not in content


def test_it_refuses_the_console_to_an_enterprise_user(client, clerk, project):
    client.force_login(clerk)
    for url in ("/admin/", CHANGELIST, change_url(project)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_it_refuses_the_records_to_a_staff_account_of_an_enterprise(client, project):
    # A misconfigured enterprise account with is_staff still has no console: the membership decides.
    clerk = make_enterprise_user(username="staff-clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get(CHANGELIST).status_code == 403
    assert project.name not in client.get("/admin/").content.decode()


def test_it_offers_no_add_edit_or_delete(client, reviewer, project):
    client.force_login(reviewer)
    assert client.get(reverse("admin:projects_project_add")).status_code == 403
    assert client.get(reverse("admin:projects_project_delete", args=[project.pk])).status_code == 403
    response = client.post(change_url(project), {"name": "改名"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name == "渝中区解放碑商务楼"


# ---------------------------------------------------------------- search and filters


def test_it_finds_a_record_by_its_permit_number(client, clerk, reviewer, yuzhong, project, open_windows):
    other = submitted_project(clerk, yuzhong, name="渝中区另一工程")
    client.force_login(reviewer)

    response = client.get(CHANGELIST, {"q": project.permit.permit_number})

    assert [p.pk for p in response.context["cl"].result_list] == [project.pk]
    assert other.name not in response.content.decode()


@pytest.mark.parametrize(
    "term",
    [
        lambda p: p.contract.filing_number,
        lambda p: p.completion.filing_number,
        lambda p: p.drawing_review.certificate_number,
        lambda p: p.tendering.award_notice_number,
        lambda p: p.registration.registration_number,
        lambda p: p.enterprise.credit_code,
        lambda p: p.project_number,
        lambda p: "解放碑",
    ],
)
def test_it_finds_a_record_by_name_number_credit_code_or_any_document_number(client, reviewer, project, term):
    client.force_login(reviewer)
    response = client.get(CHANGELIST, {"q": term(project)})
    assert [p.pk for p in response.context["cl"].result_list] == [project.pk]


def test_it_does_not_match_part_of_a_document_number(client, reviewer, project):
    client.force_login(reviewer)
    response = client.get(CHANGELIST, {"q": project.permit.permit_number[:-2]})
    assert list(response.context["cl"].result_list) == []


def test_it_filters_by_enterprise_and_by_missing_stage(
    client, clerk, reviewer, yuzhong, project, open_windows
):
    other_clerk = make_enterprise_user(username="other-clerk")
    other = submitted_project(other_clerk, yuzhong, name="渝中区另一企业工程")
    no_permit = make_project(
        clerk.membership.enterprise,
        clerk,
        yuzhong,
        name="渝中区开工证明工程",
        status=Status.SUBMITTED,
        stages=["registration", "tendering", "contract", "drawing_review", "completion"],
        evidence=False,
    )
    client.force_login(reviewer)

    def listed(**params):
        return {p.pk for p in client.get(CHANGELIST, params).context["cl"].result_list}

    assert listed(enterprise=str(other.enterprise_id)) == {other.pk}
    assert listed(stage="permit") == {no_permit.pk}
    assert listed(stage="complete") == {project.pk, other.pk}
    assert listed(status__exact="submitted", project_type__exact="building_general") == {
        project.pk,
        other.pk,
        no_permit.pk,
    }


def test_the_enterprise_filter_offers_the_enterprises_with_a_record_the_user_sees(
    client, clerk, reviewer, city, yuzhong, authorities
):
    """In name order, each once: an enterprise with only a draft, or only records of another district, is not
    offered to the district's reviewer (review.admin.EnterpriseFilter, an EXISTS a name)."""

    def enterprise(name, *records):
        user = make_enterprise_user(username=f"clerk-{name[0].lower()}")
        user.membership.enterprise.name = name
        user.membership.enterprise.save()
        for authority, status in records:
            make_project(
                user.membership.enterprise, user, authority, status=status, stages=False, evidence=False
            )
        return user.membership.enterprise

    jiangbei = authorities["500105"]
    two = enterprise("B建设公司", (yuzhong, Status.SUBMITTED), (yuzhong, Status.IN_NOTICE))
    one = enterprise("A建设公司", (yuzhong, Status.SUBMITTED), (yuzhong, Status.DRAFT))
    draft_only = enterprise("C建设公司", (yuzhong, Status.DRAFT))
    elsewhere = enterprise("D建设公司", (jiangbei, Status.SUBMITTED))

    def offered(user):
        client.force_login(user)
        specs = client.get(CHANGELIST).context["cl"].filter_specs
        (spec,) = [spec for spec in specs if getattr(spec, "parameter_name", "") == "enterprise"]
        return list(spec.lookup_choices)

    by_name = sorted([one, two, elsewhere], key=lambda e: e.name)
    assert offered(reviewer) == [(str(e.pk), e.name) for e in by_name if e != elsewhere]
    assert offered(city) == [(str(e.pk), e.name) for e in by_name]
    assert str(draft_only.pk) not in dict(offered(city))


def test_the_review_page_runs_the_same_queries_however_much_the_record_holds(
    client, clerk, reviewer, yuzhong, open_windows
):
    """One file a stage and one returned round against four files a stage, three rounds of eight comments each:
    the review page (stages, evidence, findings, comments, the diff since the previous submission) reads the
    same number of queries."""

    def reviewed(name, files_per_stage, rounds, comments_per_round):
        project = make_project(clerk.membership.enterprise, clerk, yuzhong, name=name)
        for _ in range(files_per_stage - 1):
            for code in STAGE_ORDER:
                add_evidence(project, code, clerk)
        project = project_services.submit_project(actor=Actor(user=clerk), project=project)
        for round_number in range(rounds):
            comments = [
                {"stage": "permit", "field": "permit_number", "text": f"第{round_number}轮意见{n}"}
                for n in range(comments_per_round)
            ]
            services.return_for_revision(actor=Actor(user=reviewer), project=project, comments=comments)
            project.refresh_from_db()
            project = project_services.submit_project(actor=Actor(user=clerk), project=project)
        return project

    small = reviewed("少量材料的工程", files_per_stage=1, rounds=1, comments_per_round=1)
    large = reviewed("大量材料的工程", files_per_stage=4, rounds=3, comments_per_round=8)
    client.force_login(reviewer)

    def count(project):
        client.get(change_url(project))  # the first request of a session reads a few things once
        with CaptureQueriesContext(connection) as queries:
            response = client.get(change_url(project))
        assert response.status_code == 200
        return len(queries)

    at_small, at_large = count(small), count(large)
    assert at_small == at_large, (at_small, at_large)
    assert at_large <= 30, at_large


def test_it_lists_at_a_fixed_number_of_queries_whatever_the_number_of_records(
    client, clerk, reviewer, yuzhong, project
):
    enterprise = clerk.membership.enterprise

    def make(count):
        for _ in range(count):
            make_project(enterprise, clerk, yuzhong, status=Status.SUBMITTED, stages=False, evidence=False)

    def count_queries(**params):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return len(queries), len(response.context["cl"].result_list)

    client.force_login(reviewer)
    services.assign(actor=Actor(user=reviewer), projects=[project], reviewer=reviewer)
    make(9)
    at_10, rows_10 = count_queries()
    searched_10, _ = count_queries(q=enterprise.credit_code)
    make(490)
    at_500, rows_500 = count_queries()
    searched_500, found_500 = count_queries(q=enterprise.credit_code)

    assert (rows_10, rows_500, found_500) == (10, 50, 50)
    assert at_10 == at_500
    assert at_500 <= 10, at_500
    # A search adds one query, whatever it finds: the exact matches (credit code, document numbers) looked up first.
    assert searched_10 == searched_500 == at_500 + 1


# ---------------------------------------------------------------- the review page


def test_it_shows_the_six_stages_evidence_and_rule_findings(client, reviewer, project):
    client.force_login(reviewer)
    response = client.get(change_url(project))
    content = response.content.decode()

    assert response.status_code == 200
    for label in ("项目报建", "项目招投标", "合同备案", "施工图审查", "施工许可", "竣工验收备案"):
        assert label in content
    assert "施工单位安全生产许可证编号" in content
    assert project.permit.safety_licence_number in content
    assert "系统校验结果：0个错误" in content
    evidence = project.evidence.filter(stage="permit").first()
    evidence_url = reverse("projects:evidence_view", args=[project.pk, evidence.pk])
    assert evidence_url in content
    assert client.get(evidence_url).status_code == 200
    for form in ("approve-form", "return-form", "reject-form"):
        assert f'id="{form}"' in content
    assert 'name="expected_status" value="submitted"' in content


def test_it_shows_warnings_with_their_category(client, clerk, reviewer, yuzhong, open_windows):
    # Contract amount 30% above the award amount: a logic warning, not an error.
    project = submitted_project(
        clerk, yuzhong, name="渝中区金额偏差工程", stage_data={"contract": {"amount": "16049381.40"}}
    )
    client.force_login(reviewer)
    content = client.get(change_url(project)).content.decode()
    assert 'data-rule="LOGIC-3"' in content
    assert "逻辑性" in content and "提示" in content


def test_it_shows_what_changed_since_the_previous_submission(client, clerk, reviewer, project):
    client.force_login(reviewer)
    old_licence = project.permit.safety_licence_number
    client.post(
        decision_url(project, "return"),
        {"expected_status": "submitted", "target_1": "permit:safety_licence_number", "text_1": "与证书不符"},
    )
    project.refresh_from_db()
    assert project.status == Status.RETURNED

    actor = Actor(user=clerk)
    project_services.save_stage(
        actor=actor,
        project=project,
        stage_code="permit",
        data={"safety_licence_number": "（渝）JZ安许证字〔2015〕000123"},
    )
    project_services.submit_project(actor=actor, project=project, expected_status=Status.RETURNED)

    content = client.get(change_url(project)).content.decode()
    changes = content[content.index('id="changes"') : content.index('id="findings"')]
    assert "第1次提交" in changes and "第2次提交" in changes
    assert 'data-stage="permit" data-field="safety_licence_number"' in changes
    assert old_licence in changes
    assert "（渝）JZ安许证字〔2015〕000123" in changes
    assert changes.count('class="change"') == 1
    # The comment of the return is in the history, settled by the resubmission.
    assert "与证书不符" in content and "已随第2次提交修改" in content


# ---------------------------------------------------------------- decisions


def test_it_approves_into_the_notice(client, clerk, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        decision_url(project, "approve"), {"expected_status": "submitted", "comment": "材料齐全"}, follow=True
    )

    project.refresh_from_db()
    assert project.status == Status.IN_NOTICE
    decision = ReviewDecision.objects.get(project=project)
    assert (decision.decision, decision.reason, decision.reviewer) == (Decision.APPROVE, "材料齐全", reviewer)
    assert any("审核通过" in m for m in messages_of(response))
    assert AuditEvent.objects.filter(project=project, action="review.approve", actor=reviewer).exists()
    assert 'id="approve-form"' not in response.content.decode()  # decided: no more forms
    assert clerk.notifications.filter(project=project).exists()


def test_it_returns_with_comments_pinned_to_fields(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        decision_url(project, "return"),
        {
            "expected_status": "submitted",
            "target_1": "permit:permit_number",
            "text_1": "施工许可证编号与证书不符",
            "target_2": "completion:evidence",
            "text_2": "请上传竣工验收备案表",
            "target_3": ":",
            "text_3": "",
        },
        follow=True,
    )

    project.refresh_from_db()
    assert project.status == Status.RETURNED
    comments = list(ReviewComment.objects.filter(project=project).values_list("stage", "field", "text"))
    assert comments == [
        ("permit", "permit_number", "施工许可证编号与证书不符"),
        ("completion", "evidence", "请上传竣工验收备案表"),
    ]
    assert ReviewDecision.objects.get(project=project).decision == Decision.RETURN
    assert any("附2条审核意见" in m for m in messages_of(response))


def test_it_requires_a_comment_to_return(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        decision_url(project, "return"),
        {"expected_status": "submitted", "target_1": "permit:permit_number", "text_1": "   "},
        follow=True,
    )

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert not ReviewDecision.objects.filter(project=project).exists()
    assert any("至少一条审核意见" in m for m in messages_of(response))


def test_it_rejects_with_a_ground_and_a_reason(client, reviewer, project):
    client.force_login(reviewer)
    client.post(
        decision_url(project, "reject"),
        {
            "expected_status": "submitted",
            "ground": "out_of_scope",
            "reason": "项目为涉密工程",
            "confirmed": "on",
        },
    )
    project.refresh_from_db()
    assert project.status == Status.REJECTED
    decision = ReviewDecision.objects.get(project=project)
    assert (decision.ground, decision.reason) == ("out_of_scope", "项目为涉密工程")


def test_it_requires_a_reason_to_reject(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        decision_url(project, "reject"),
        {"expected_status": "submitted", "ground": "out_of_scope", "reason": "", "confirmed": "on"},
        follow=True,
    )
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert any("须写明理由" in m for m in messages_of(response))


def test_it_requires_the_reviewer_to_confirm_a_reject(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        decision_url(project, "reject"),
        {"expected_status": "submitted", "ground": "out_of_scope", "reason": "项目为涉密工程"},
        follow=True,
    )
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert any("请勾选确认" in m for m in messages_of(response))


def test_it_returns_with_any_number_of_comments_attached_to_fields(client, reviewer, project):
    client.force_login(reviewer)
    client.post(
        decision_url(project, "return"),
        {
            "expected_status": "submitted",
            "comment_target": [
                "tendering:award_amount",
                "permit:permit_number",
                "completion:evidence",
                "contract:",
            ],
            "comment_text": [
                "中标金额与通知书不符",
                "许可证编号有误",
                "缺竣工验收备案表",
                "合同备案信息不全",
            ],
        },
    )
    project.refresh_from_db()
    assert project.status == Status.RETURNED
    assert sorted(ReviewComment.objects.filter(project=project).values_list("stage", "field")) == [
        ("completion", "evidence"),
        ("contract", ""),
        ("permit", "permit_number"),
        ("tendering", "award_amount"),
    ]


def test_a_comment_on_a_field_that_does_not_exist_is_refused_and_nothing_changes(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        decision_url(project, "return"),
        {
            "expected_status": "submitted",
            "comment_target": ["permit:no_such_field"],
            "comment_text": ["意见"],
        },
        follow=True,
    )
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert any("没有字段" in m for m in messages_of(response))
    assert not ReviewComment.objects.filter(project=project).exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("approve", {"comment": ""}),
        ("return", {"target_1": ":", "text_1": "请补充"}),
        ("reject", {"ground": "false_information", "reason": "虚假", "confirmed": "on"}),
    ],
)
def test_it_refuses_a_decision_by_a_reviewer_of_another_authority(
    client, other_reviewer, project, name, data
):
    client.force_login(other_reviewer)
    response = client.post(decision_url(project, name), {"expected_status": "submitted", **data}, follow=True)

    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert not ReviewDecision.objects.filter(project=project).exists()
    assert not ReviewComment.objects.filter(project=project).exists()
    assert any("只能审核本辖区内的项目" in m for m in messages_of(response))
    assert project.name not in response.content.decode()
    refusal = AuditEvent.objects.get(project=project, action=f"review.{name}.refused")
    assert refusal.actor == other_reviewer


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("approve", {"comment": ""}),
        ("return", {"target_1": ":", "text_1": "请补充"}),
        ("reject", {"ground": "false_information", "reason": "虚假", "confirmed": "on"}),
    ],
)
def test_it_refuses_a_decision_by_the_city(client, project, name, data):
    client.force_login(make_city_user(username="city"))
    response = client.post(decision_url(project, name), {"expected_status": "submitted", **data}, follow=True)
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert not ReviewDecision.objects.filter(project=project).exists()
    assert any("审核人员" in m for m in messages_of(response))


def test_it_refuses_a_decision_made_on_a_stale_page(client, reviewer, yuzhong, project):
    colleague = make_reviewer(yuzhong, username="yz-colleague")
    # The colleague returned the record after this reviewer's page showed it as submitted.
    services.return_for_revision(
        actor=Actor(user=colleague),
        project=project,
        expected_status="submitted",
        comments=[{"stage": "", "field": "", "text": "请补充说明"}],
    )
    client.force_login(reviewer)
    response = client.post(decision_url(project, "approve"), {"expected_status": "submitted"}, follow=True)

    project.refresh_from_db()
    assert project.status == Status.RETURNED
    assert list(ReviewDecision.objects.filter(project=project).values_list("decision", flat=True)) == [
        "return"
    ]
    assert any("可能已有其他人处理" in m for m in messages_of(response))
    assert AuditEvent.objects.filter(
        project=project, action="review.approve.refused", actor=reviewer
    ).exists()


def test_it_refuses_a_decision_posted_without_the_status_the_page_showed(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(decision_url(project, "approve"), {}, follow=True)
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED
    assert any("请刷新页面后重试" in m for m in messages_of(response))


def test_it_accepts_decisions_by_post_only(client, reviewer, project):
    client.force_login(reviewer)
    assert client.get(decision_url(project, "approve")).status_code == 405
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED


def test_it_answers_404_to_a_decision_on_no_record(client, reviewer):
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:projects_project_approve", args=[999999]), {"expected_status": "submitted"}
    )
    assert response.status_code == 404


# ---------------------------------------------------------------- the one bulk action: assign to me


def test_it_assigns_selected_records_to_the_reviewer(client, reviewer, project):
    client.force_login(reviewer)
    response = client.post(
        CHANGELIST, {"action": "assign_to_me", "_selected_action": [project.pk], "index": 0}, follow=True
    )
    assert Assignment.objects.get(project=project).reviewer == reviewer
    assert any("已将1个项目分派给您" in m for m in messages_of(response))
    assert "yz-reviewer" in response.content.decode()
    assert AuditEvent.objects.filter(project=project, action="review.assign").exists()


def test_it_offers_no_bulk_decision(client, reviewer, project):
    client.force_login(reviewer)
    content = client.get(CHANGELIST).content.decode()
    options = re.findall(
        r'<option value="([^"]*)"', content[content.index('name="action"') :].split("</select>")[0]
    )
    assert options == ["", "assign_to_me"]


# ---------------------------------------------------------------- backfill windows: the city extends them


WINDOW_CHANGELIST = reverse("admin:projects_backfillwindow_changelist")


@pytest.fixture
def window(db):
    return BackfillWindow.objects.create(
        enterprise_kind=EnterpriseKind.CONSTRUCTION,
        opens_on=datetime.date(2018, 6, 1),
        closes_on=datetime.date(2018, 9, 30),
        basis="渝建〔2018〕213号",
    )


def window_form(window, **changes):
    data = {
        "opens_on": window.opens_on.isoformat(),
        "closes_on": window.closes_on.isoformat(),
        "basis": window.basis,
    }
    return {**data, **changes}


def test_it_lets_the_city_extend_a_window(client, window):
    city = make_city_user(username="city")
    client.force_login(city)
    url = reverse("admin:projects_backfillwindow_change", args=[window.pk])
    response = client.post(url, window_form(window, closes_on="2018-12-31", basis="住建部确定的最终时间"))

    assert response.status_code == 302
    window.refresh_from_db()
    assert window.closes_on == datetime.date(2018, 12, 31)
    event = AuditEvent.objects.get(action="window.change")
    assert event.actor == city
    assert event.changes["closes_on"] == ["2018-09-30", "2018-12-31"]


def test_it_refuses_to_shorten_a_window(client, window):
    client.force_login(make_city_user(username="city"))
    url = reverse("admin:projects_backfillwindow_change", args=[window.pk])

    earlier_end = client.post(url, window_form(window, closes_on="2018-09-01"))
    later_start = client.post(url, window_form(window, opens_on="2018-07-01"))

    assert "截止日期只能延后，不能提前" in earlier_end.content.decode()
    assert "开始日期只能提前，不能推后" in later_start.content.decode()
    window.refresh_from_db()
    assert (window.opens_on, window.closes_on) == (datetime.date(2018, 6, 1), datetime.date(2018, 9, 30))
    assert not AuditEvent.objects.filter(action="window.change").exists()


def test_it_lets_a_reviewer_read_but_not_change_a_window(client, reviewer, window):
    client.force_login(reviewer)
    url = reverse("admin:projects_backfillwindow_change", args=[window.pk])
    assert client.get(WINDOW_CHANGELIST).status_code == 200
    assert client.post(url, window_form(window, closes_on="2019-12-31")).status_code == 403
    window.refresh_from_db()
    assert window.closes_on == datetime.date(2018, 9, 30)


def test_it_refuses_a_window_change_by_a_reviewer_in_the_service_and_audits_it(reviewer, window):
    with pytest.raises(services.PermissionDenied):
        services.change_window(
            actor=Actor(user=reviewer),
            window=window,
            opens_on=window.opens_on,
            closes_on=datetime.date(2019, 12, 31),
        )
    window.refresh_from_db()
    assert window.closes_on == datetime.date(2018, 9, 30)
    assert AuditEvent.objects.filter(action="window.change.refused", actor=reviewer).exists()
