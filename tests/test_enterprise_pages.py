"""The enterprise's pages end to end, through Django's test client: what a clerk types or uploads that must be
refused gets a clear Chinese message and leaves nothing saved, not even in part; the login locks after repeated
failures; the record list searches and pages; submitting locks the record against every kind of edit.

Who may open which page (404 for another enterprise's record or evidence, guessed ids included) is the table of
tests/test_permissions.py; the rules themselves are tests/test_rules.py. Here: what the pages do with bad input.
"""

import datetime
import re
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from projects.models import (
    STAGE_MODELS,
    AuditEvent,
    Evidence,
    Project,
    Status,
    SubmissionVersion,
)
from projects.services import PROJECT_EDITABLE_FIELDS
from tests.builders import (
    EXE_BYTES,
    PDF_BYTES,
    TEST_PASSWORD,
    enter_library,
    make_enterprise_user,
    make_project,
)

# Evidence of these tests, the world's included, in a storage of the test's own: the upload tests list its files.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("evidence_storage")]


@pytest.fixture
def world(authorities, open_windows):
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk-a")
    other = make_enterprise_user(username="clerk-b")
    draft = make_project(clerk.membership.enterprise, clerk, yuzhong, name="渝中区示范综合楼工程")
    b_project = make_project(other.membership.enterprise, other, yuzhong, name="B企业的项目")
    return SimpleNamespace(yuzhong=yuzhong, clerk=clerk, other=other, draft=draft, b_project=b_project)


@pytest.fixture
def clerk_client(client, world):
    client.force_login(world.clerk)
    return client


def stage_values(project, code):
    """The stage as stored (every field but the bookkeeping ones)."""
    stage = STAGE_MODELS[code].objects.get(project=project)
    return model_to_dict(stage, exclude=["id", "updated_at", "updated_by"])


def stage_post(project, code, **changes):
    """What the stage form posts when the clerk changes `changes` and leaves the rest as stored."""
    values = {**stage_values(project, code), **changes}
    values.pop("project")
    return {name: value for name, value in values.items() if value is not None}


def stored_state():
    """Everything a refused post must leave as it was."""
    return {
        "events": AuditEvent.objects.count(),
        "projects": list(Project.objects.order_by("pk").values()),
        "stages": {code: list(model.objects.order_by("pk").values()) for code, model in STAGE_MODELS.items()},
        "evidence": list(Evidence.objects.order_by("pk").values()),
    }


def stored_files(location):
    return sorted(path.relative_to(location) for path in location.rglob("*") if path.is_file())


def field_errors(response, field):
    assert response.status_code == 200, response.status_code
    return response.context["form"].errors.get(field, [])


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


# ---------------------------------------------------------------- bad input in the forms


def test_it_refuses_a_credit_code_with_a_wrong_check_character_and_saves_no_field_of_the_form(
    clerk_client, world
):
    code = world.clerk.membership.enterprise.credit_code
    wrong = code[:-1] + ("1" if code[-1] != "1" else "2")  # the same code, another check character
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "tendering"}),
        stage_post(world.draft, "tendering", winner_credit_code=wrong, project_manager_name="王五"),
    )

    [error] = field_errors(response, "winner_credit_code")
    assert error == f"统一社会信用代码“{wrong}”无效：应为18位数字或大写字母，且校验码须符合GB 32100-2015。"
    assert error in response.content.decode()
    assert stored_state() == before  # the valid change beside it (the manager's name) is not saved either


def test_it_refuses_dates_out_of_order_beside_the_field_and_saves_nothing(clerk_client, world):
    registered_on = world.draft.registration.registered_on
    awarded_on = registered_on - datetime.timedelta(days=10)
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "tendering"}),
        stage_post(world.draft, "tendering", awarded_on=awarded_on, tender_agency_name="另一家代理机构"),
    )

    [error] = field_errors(response, "awarded_on")
    assert f"“中标日期”（{awarded_on:%Y-%m-%d}）早于“项目报建”环节的" in error
    assert f"（{registered_on:%Y-%m-%d}）" in error
    assert "中标日期" in response.content.decode()
    assert stored_state() == before


@pytest.mark.parametrize("typed", ["9999-12-31", "0001-01-01"])
def test_it_refuses_a_date_beyond_any_plausible_year_and_saves_nothing(clerk_client, world, typed):
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "tendering"}),
        stage_post(world.draft, "tendering", awarded_on=typed, tender_agency_name="另一家代理机构"),
    )

    assert field_errors(response, "awarded_on") == ["日期须在1949-10-01至2099-12-31之间。"]
    assert stored_state() == before


def test_it_refuses_a_permit_number_another_project_uses_and_saves_nothing(clerk_client, world):
    taken = world.b_project.permit.permit_number  # another enterprise's record holds it
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "permit"}),
        stage_post(world.draft, "permit", permit_number=taken, chief_supervisor_name="赵总监"),
    )

    # beside the field, naming which of the stage's numbers is taken (not "该编号" above the form)
    assert field_errors(response, "permit_number") == [
        f"施工许可证编号“{taken}”已被其他补录项目使用，同一编号不能重复补录。"
    ]
    assert not response.context["form"].non_field_errors()
    assert world.b_project.project_number not in response.content.decode()  # B's record is not named to A
    assert stored_state() == before


def test_it_refuses_a_permit_number_taken_by_a_project_of_the_same_enterprise_too(clerk_client, world):
    sibling = make_project(
        world.clerk.membership.enterprise, world.clerk, world.yuzhong, name="同企业另一项目"
    )
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "permit"}),
        stage_post(world.draft, "permit", permit_number=sibling.permit.permit_number),
    )

    [error] = field_errors(response, "permit_number")
    assert (
        error == f"施工许可证编号“{sibling.permit.permit_number}”已被其他补录项目使用，同一编号不能重复补录。"
    )
    assert stored_state() == before


@pytest.mark.parametrize(
    "value",
    ["<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "javascript:alert(1)"],
)
def test_it_refuses_markup_in_a_text_field_of_a_stage(clerk_client, world, value):
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "registration"}),
        stage_post(world.draft, "registration", scale=value, function="住宅"),
    )

    assert field_errors(response, "scale") == ["不能包含HTML标签或脚本代码，请输入纯文本。"]
    assert stored_state() == before
    # the refused value is shown back as text in the field, never as live markup
    body = response.content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body


def test_it_refuses_markup_in_the_project_name_when_editing(clerk_client, world):
    before = stored_state()
    data = model_to_dict(world.draft, fields=PROJECT_EDITABLE_FIELDS)
    data["name"] = "<script>alert('x')</script>综合楼"

    response = clerk_client.post(reverse("projects:project_edit", kwargs={"pk": world.draft.pk}), data)

    assert field_errors(response, "name") == ["不能包含HTML标签或脚本代码，请输入纯文本。"]
    assert "<script>alert" not in response.content.decode()
    assert stored_state() == before


def new_project_data(world, **changes):
    return {
        "authority": world.yuzhong.pk,
        "county_code": "500103",
        "name": "解放碑新建办公楼工程",
        "address": "重庆市渝中区民族路2号",
        "project_type": "building_general",
        "is_completed": "True",
        "is_classified": "False",
        "already_in_national_library": "False",
        "start_basis": "permit",
        "total_investment": "1000000.00",
        "total_area": "5000.00",
        **changes,
    }


def test_it_creates_no_record_when_the_new_project_form_holds_markup(clerk_client, world):
    before = stored_state()

    response = clerk_client.post(
        reverse("projects:project_create"),
        new_project_data(world, address='民族路<a href="http://x">1号</a>'),
    )

    assert field_errors(response, "address") == ["不能包含HTML标签或脚本代码，请输入纯文本。"]
    assert stored_state() == before  # no project, no audit event, no project number used up


def test_it_creates_a_record_from_the_same_form_without_the_markup(clerk_client, world):
    """The control of the test above: the same form, clean, does create the record and its event."""
    response = clerk_client.post(reverse("projects:project_create"), new_project_data(world))

    project = Project.objects.get(name="解放碑新建办公楼工程")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.pk}/"
    assert project.enterprise == world.clerk.membership.enterprise and project.status == Status.DRAFT
    assert AuditEvent.objects.filter(project=project, action="project.create").count() == 1


# ---------------------------------------------------------------- bad uploads


def upload(client, project, uploaded, stage="permit"):
    url = reverse("projects:evidence_upload", kwargs={"pk": project.pk, "stage_code": stage})
    return client.post(url, {"file": uploaded, "description": "施工许可证扫描件"}, follow=True)


def assert_upload_refused(response, evidence_storage, before, files_before, says):
    assert response.redirect_chain[-1][0].endswith("#evidence")
    [message] = page_messages(response)
    assert message.startswith("上传失败：") and says in message, message
    assert message in response.content.decode()
    # the refusal is audited (who, which record, why); nothing else changed
    after = stored_state()
    assert after["events"] == before["events"] + 1
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
    event = AuditEvent.objects.latest("id")
    assert event.action == "evidence.add.refused"
    assert event.actor == response.wsgi_request.user
    assert (event.object_type, event.project_id) == (
        "project",
        int(response.redirect_chain[-1][0].split("/")[2]),
    )
    assert says in event.message
    assert stored_files(evidence_storage) == files_before  # no orphan file either


def test_it_refuses_a_renamed_executable_posing_as_a_pdf(clerk_client, world, evidence_storage):
    before, files_before = stored_state(), stored_files(evidence_storage)
    disguised = SimpleUploadedFile("施工许可证.pdf", EXE_BYTES, content_type="application/pdf")

    response = upload(clerk_client, world.draft, disguised)

    assert_upload_refused(
        response,
        evidence_storage,
        before,
        files_before,
        "文件“施工许可证.pdf”的内容不是PDF、JPEG或PNG（识别为application/x-msdownload）",
    )


def test_it_refuses_an_empty_file(clerk_client, world, evidence_storage):
    before, files_before = stored_state(), stored_files(evidence_storage)

    response = upload(clerk_client, world.draft, SimpleUploadedFile("空文件.pdf", b"", "application/pdf"))

    assert_upload_refused(response, evidence_storage, before, files_before, "空文件")


def test_it_refuses_a_file_over_the_size_limit_and_says_both_sizes(
    clerk_client, world, evidence_storage, settings
):
    settings.EVIDENCE_MAX_BYTES = 2 * 1024 * 1024
    big = PDF_BYTES + b"%" * (3 * 1024 * 1024)  # a real PDF header, 3 MB over
    before, files_before = stored_state(), stored_files(evidence_storage)

    response = upload(clerk_client, world.draft, SimpleUploadedFile("大文件.pdf", big, "application/pdf"))

    assert_upload_refused(response, evidence_storage, before, files_before, "超过上限2.0MB")
    assert "文件大小为3.0MB" in page_messages(response)[0]


def test_it_says_a_small_size_limit_in_kilobytes_not_as_zero_megabytes(
    clerk_client, world, evidence_storage, settings
):
    settings.EVIDENCE_MAX_BYTES = 1024
    before, files_before = stored_state(), stored_files(evidence_storage)
    big = PDF_BYTES + b"%" * 2048

    response = upload(clerk_client, world.draft, SimpleUploadedFile("扫描件.pdf", big, "application/pdf"))

    assert_upload_refused(response, evidence_storage, before, files_before, "超过上限1.0KB")
    assert "0MB" not in page_messages(response)[0]


def test_it_accepts_a_file_exactly_at_the_size_limit(clerk_client, world, evidence_storage, settings):
    settings.EVIDENCE_MAX_BYTES = len(PDF_BYTES)

    response = upload(clerk_client, world.draft, SimpleUploadedFile("刚好.pdf", PDF_BYTES, "application/pdf"))

    assert page_messages(response) == ["已上传“刚好.pdf”。"]
    evidence = Evidence.objects.get(original_name="刚好.pdf")
    assert evidence.content_type == "application/pdf" and evidence.size == len(PDF_BYTES)


# ---------------------------------------------------------------- another enterprise's record


def test_another_enterprises_record_answers_exactly_like_one_that_does_not_exist(client, world):
    """Enterprise B learns nothing from guessing ids: A's record and a free id give the same 404 page."""
    client.force_login(world.other)
    evidence = world.draft.evidence.first()
    free_id = Project.objects.order_by("-pk").first().pk + 1000
    free_evidence = Evidence.objects.order_by("-pk").first().pk + 1000

    pairs = [
        (
            reverse("projects:project_detail", args=[world.draft.pk]),
            reverse("projects:project_detail", args=[free_id]),
        ),
        (
            reverse("projects:self_check", args=[world.draft.pk]),
            reverse("projects:self_check", args=[free_id]),
        ),
        (
            reverse("projects:project_history", args=[world.draft.pk]),
            reverse("projects:project_history", args=[free_id]),
        ),
        (
            reverse("projects:evidence_view", args=[world.draft.pk, evidence.pk]),
            reverse("projects:evidence_view", args=[world.draft.pk, free_evidence]),
        ),
    ]
    for existing, missing in pairs:
        a, b = client.get(existing), client.get(missing)
        assert (a.status_code, b.status_code) == (404, 404), existing
        assert without_csrf_token(a) == without_csrf_token(b), existing
        assert world.draft.name not in a.content.decode()


def without_csrf_token(response):
    """The page, less the logout form's CSRF token (masked afresh on every response)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def test_it_never_lists_or_finds_another_enterprises_record(clerk_client, world):
    response = clerk_client.get(reverse("projects:project_list"), {"q": world.b_project.permit.permit_number})

    assert listed_names(response) == []
    response = clerk_client.get(reverse("projects:project_list"), {"q": "B企业"})
    assert listed_names(response) == []


# ---------------------------------------------------------------- login lockout (django-axes)


def login(client, username, password, ip="192.0.2.10"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, follow=False
    )


def test_it_locks_a_login_after_repeated_failures_even_for_the_right_password(client, world, settings):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5  # the default: the message below tells users "连续输错多次"

    for _ in range(limit - 1):
        response = login(client, "clerk-a", "wrong-password")
        assert response.status_code == 200
        assert "用户名或密码错误。连续输错多次后账号将被暂时锁定。" in response.content.decode()

    locked = login(client, "clerk-a", "wrong-password")
    assert locked.status_code == 429
    assert "账号已暂时锁定" in locked.content.decode()

    right = login(client, "clerk-a", TEST_PASSWORD)
    assert right.status_code == 429 and "账号已暂时锁定" in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("projects:project_list")).status_code == 302  # still not logged in


def test_a_lockout_is_per_username_and_address(client, world):
    for _ in range(5):
        login(client, "clerk-a", "wrong-password")
    assert login(client, "clerk-a", TEST_PASSWORD).status_code == 429

    other_user = login(client, "clerk-b", TEST_PASSWORD)
    assert other_user.status_code == 302 and other_user["Location"] == "/"
    client.logout()
    other_address = login(client, "clerk-a", TEST_PASSWORD, ip="198.51.100.7")
    assert other_address.status_code == 302


def test_a_lockout_ends_after_the_cool_off(client, world, settings):
    for _ in range(5):
        login(client, "clerk-a", "wrong-password")
    assert login(client, "clerk-a", TEST_PASSWORD).status_code == 429

    # the cool-off (AXES_COOLOFF_TIME hours) has passed since the failures
    passed = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    AccessAttempt.objects.update(attempt_time=timezone.now() - passed)

    response = login(client, "clerk-a", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("projects:project_list")).status_code == 200


def test_a_successful_login_resets_the_failure_count(client, world):
    for _ in range(4):
        login(client, "clerk-a", "wrong-password")
    assert login(client, "clerk-a", TEST_PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):  # four more failures do not reach the limit: the earlier four were forgotten
        assert login(client, "clerk-a", "wrong-password").status_code == 200
    assert login(client, "clerk-a", TEST_PASSWORD).status_code == 302


# ---------------------------------------------------------------- the record list: search and pages

ROW = re.compile(r'<td><a href="/projects/\d+/">([^<]*)</a></td>')


def listed_names(response):
    assert response.status_code == 200
    return ROW.findall(response.content.decode())


@pytest.fixture
def many(world):
    """23 more bare records of A (no stages), each updated a minute apart: 24 with the draft."""
    enterprise = world.clerk.membership.enterprise
    records = []
    for n in range(23):
        project = make_project(
            enterprise, world.clerk, world.yuzhong, stages=False, evidence=False, name=f"分页测试工程{n:02d}"
        )
        records.append(project)
    base = timezone.now() - datetime.timedelta(days=1)
    for n, project in enumerate(records):
        Project.objects.filter(pk=project.pk).update(updated_at=base + datetime.timedelta(minutes=n))
    Project.objects.filter(pk=world.draft.pk).update(updated_at=base - datetime.timedelta(minutes=1))
    return records


def test_it_lists_twenty_records_a_page_newest_first(clerk_client, world, many):
    first = clerk_client.get(reverse("projects:project_list"))
    second = clerk_client.get(reverse("projects:project_list"), {"page": 2})

    assert listed_names(first) == [f"分页测试工程{n:02d}" for n in range(22, 2, -1)]
    assert listed_names(second) == ["分页测试工程02", "分页测试工程01", "分页测试工程00", world.draft.name]
    assert "第 1 / 2 页，共 24 条" in first.content.decode()
    assert 'href="?page=2"' in first.content.decode()


def test_it_answers_a_page_out_of_range_or_not_a_number_with_a_real_page(clerk_client, many):
    assert (
        listed_names(clerk_client.get(reverse("projects:project_list"), {"page": 99}))[0] == "分页测试工程02"
    )
    assert (
        listed_names(clerk_client.get(reverse("projects:project_list"), {"page": "x"}))[0] == "分页测试工程22"
    )


def test_it_searches_by_name_and_keeps_the_search_in_the_page_links(clerk_client, world, many):
    make_project(
        world.other.membership.enterprise, world.other, world.yuzhong, stages=False, name="分页测试工程B"
    )

    response = clerk_client.get(reverse("projects:project_list"), {"q": "分页测试"})

    assert len(listed_names(response)) == 20 and "分页测试工程B" not in listed_names(response)
    assert "共 23 条" in response.content.decode()
    assert 'href="?q=%E5%88%86%E9%A1%B5%E6%B5%8B%E8%AF%95&page=2"' in response.content.decode()
    page_two = clerk_client.get(reverse("projects:project_list"), {"q": "分页测试", "page": 2})
    assert listed_names(page_two) == ["分页测试工程02", "分页测试工程01", "分页测试工程00"]


@pytest.mark.parametrize(
    "term",
    [
        lambda p: p.project_number,
        lambda p: "示范综合",
        lambda p: p.permit.permit_number,
        lambda p: p.contract.filing_number,
        lambda p: p.completion.filing_number,
        lambda p: f"  {p.tendering.award_notice_number}  ",
    ],
    ids=["project number", "part of the name", "permit", "contract filing", "completion", "padded"],
)
def test_it_finds_a_record_by_its_number_or_any_stage_document_number(clerk_client, world, many, term):
    response = clerk_client.get(reverse("projects:project_list"), {"q": term(world.draft)})

    assert listed_names(response) == [world.draft.name]


def test_it_does_not_match_part_of_a_document_number(clerk_client, world):
    response = clerk_client.get(
        reverse("projects:project_list"), {"q": world.draft.permit.permit_number[:-2]}
    )

    assert listed_names(response) == []
    assert "没有符合条件的补录项目。" in response.content.decode()


def test_it_filters_by_status_and_keeps_the_filter_in_the_page_links(clerk_client, world, many):
    Project.objects.filter(pk__in=[p.pk for p in many[:21]]).update(status=Status.SUBMITTED)

    submitted = clerk_client.get(reverse("projects:project_list"), {"status": "submitted"})
    drafts = clerk_client.get(reverse("projects:project_list"), {"status": "draft"})

    assert len(listed_names(submitted)) == 20 and "共 21 条" in submitted.content.decode()
    assert 'href="?status=submitted&page=2"' in submitted.content.decode()
    assert sorted(listed_names(drafts)) == sorted(["分页测试工程21", "分页测试工程22", world.draft.name])


def test_it_ignores_an_unknown_status_filter_rather_than_failing(clerk_client, world, many):
    response = clerk_client.get(reverse("projects:project_list"), {"status": "bogus"})

    assert len(listed_names(response)) == 20


# ---------------------------------------------------------------- submit, then locked


def test_submitting_moves_the_draft_to_submitted_and_locks_every_edit(clerk_client, world, evidence_storage):
    project = world.draft
    evidence = project.evidence.get(stage="permit")

    response = clerk_client.post(
        reverse("projects:project_submit", args=[project.pk]), {"expected_status": "draft"}, follow=True
    )

    assert response.redirect_chain == [(f"/projects/{project.pk}/", 302)]
    assert page_messages(response) == ["已提交审核。审核期间不能修改；如被退回，可修改后重新提交。"]
    project.refresh_from_db()
    assert project.status == Status.SUBMITTED and project.submitted_at is not None
    assert SubmissionVersion.objects.filter(project=project, number=1).exists()
    assert AuditEvent.objects.filter(project=project, action="project.submit").count() == 1

    before, files_before = stored_state(), stored_files(evidence_storage)
    locked = "该项目当前状态为“已提交待审核”，不能修改。"
    attempts = [
        (
            reverse("projects:stage_edit", kwargs={"pk": project.pk, "stage_code": "registration"}),
            stage_post(project, "registration", scale="提交后偷改"),
            locked,
        ),
        (
            reverse("projects:project_edit", args=[project.pk]),
            {**model_to_dict(project, fields=PROJECT_EDITABLE_FIELDS), "name": "提交后改名"},
            locked,
        ),
        (
            reverse("projects:evidence_upload", kwargs={"pk": project.pk, "stage_code": "permit"}),
            {"file": SimpleUploadedFile("补充.pdf", PDF_BYTES, "application/pdf")},
            locked,
        ),
        (reverse("projects:evidence_archive", args=[project.pk, evidence.pk]), {"reason": "不要了"}, locked),
        (
            reverse("projects:project_submit", args=[project.pk]),
            {},
            "该项目当前状态为“已提交待审核”，不能提交。",
        ),
    ]
    for url, data, says in attempts:
        response = clerk_client.post(url, data, follow=True)
        assert response.status_code == 200, url
        assert any(message.startswith(says) for message in page_messages(response)), (
            url,
            page_messages(response),
        )

    after = stored_state()
    # every refused edit is audited (who tried what, on which record, the message shown); nothing else changed
    assert after["events"] == before["events"] + len(attempts)
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
    refused = AuditEvent.objects.order_by("-id")[: len(attempts)][::-1]
    assert [(e.action, e.object_type, e.project_id) for e in refused] == [
        ("stage.save.refused", "project", project.pk),
        ("project.update.refused", "project", project.pk),
        ("evidence.add.refused", "project", project.pk),
        ("evidence.archive.refused", "evidence", project.pk),
        ("project.submit.refused", "project", project.pk),
    ]
    assert all(e.actor == world.clerk for e in refused)
    assert [e.message[: len(says)] for e, (_url, _data, says) in zip(refused, attempts, strict=True)] == [
        says for _url, _data, says in attempts
    ]
    assert stored_files(evidence_storage) == files_before


def test_the_stage_page_of_a_submitted_record_shows_the_form_disabled_without_upload(clerk_client, world):
    Project.objects.filter(pk=world.draft.pk).update(status=Status.SUBMITTED)

    body = clerk_client.get(
        reverse("projects:stage_edit", kwargs={"pk": world.draft.pk, "stage_code": "permit"})
    ).content.decode()

    assert "<fieldset disabled>" in body
    assert (
        'id="save-stage"' not in body and 'id="upload-evidence"' not in body and "删除</button>" not in body
    )


def test_withdrawing_unlocks_the_record_for_edits(clerk_client, world):
    project = world.draft
    clerk_client.post(reverse("projects:project_submit", args=[project.pk]), {"expected_status": "draft"})

    response = clerk_client.post(
        reverse("projects:project_withdraw", args=[project.pk]), {"expected_status": "submitted"}, follow=True
    )
    assert page_messages(response)[-1] == "已撤回提交，可以继续修改。"
    response = clerk_client.post(
        reverse("projects:stage_edit", kwargs={"pk": project.pk, "stage_code": "registration"}),
        stage_post(project, "registration", scale="地上20层，地下2层"),
    )

    assert response.status_code == 302
    assert stage_values(project, "registration")["scale"] == "地上20层，地下2层"


def test_a_record_with_errors_is_not_submitted_and_the_clerk_is_sent_to_the_self_check(clerk_client, world):
    incomplete = make_project(
        world.clerk.membership.enterprise, world.clerk, world.yuzhong, stages=["registration"], name="未填完"
    )

    response = clerk_client.post(
        reverse("projects:project_submit", args=[incomplete.pk]), {"expected_status": "draft"}, follow=True
    )

    assert response.redirect_chain == [(f"/projects/{incomplete.pk}/check/", 302)]
    [message] = page_messages(response)
    assert re.fullmatch(r"提交失败：自查发现\d+个错误，请修改后再提交。", message)
    incomplete.refresh_from_db()
    assert incomplete.status == Status.DRAFT and not incomplete.versions.exists()


def test_a_submit_from_a_page_opened_before_a_return_is_refused(clerk_client, world):
    Project.objects.filter(pk=world.draft.pk).update(status=Status.RETURNED)

    response = clerk_client.post(
        reverse("projects:project_submit", args=[world.draft.pk]), {"expected_status": "draft"}, follow=True
    )

    [message] = page_messages(response)
    assert "已变为“退回修改”（您打开页面时为“草稿”）" in message
    assert Project.objects.get(pk=world.draft.pk).status == Status.RETURNED


def test_it_records_an_upload_the_form_refuses_before_the_service_sees_it(
    clerk_client, world, evidence_storage
):
    before, files_before = stored_state(), stored_files(evidence_storage)
    url = reverse("projects:evidence_upload", kwargs={"pk": world.draft.pk, "stage_code": "permit"})

    response = clerk_client.post(url, {"description": "没有选择文件"}, follow=True)

    assert_upload_refused(response, evidence_storage, before, files_before, "必填项")
    assert AuditEvent.objects.latest("id").project == world.draft


def test_it_renders_the_project_page_with_and_without_the_later_apps_sections(client, world, monkeypatch):
    """projects names no URL of a later app: corrections adds its section (projects/extensions.py); with no section
    registered, as if corrections were absent, the page of a record in the library still renders without it."""
    from projects import extensions

    enter_library(world.draft)
    client.force_login(world.clerk)
    url = reverse("projects:project_detail", args=[world.draft.pk])
    assert 'id="request-correction"' in client.get(url).content.decode()

    monkeypatch.setattr(extensions, "PROJECT_PAGE_SECTIONS", [])
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="request-correction"' not in page.content.decode()
