"""The enterprise's forms never lose work: a stage's fields and its evidence are saved together, what a failed
save refused stays on the page, every field the self-check requires says so with its format, yes/no questions
are answered, errors are summarised at the top and marked on the field being edited."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import Evidence, RegistrationStage, Status
from tests.builders import EXE_BYTES, PDF_BYTES, make_enterprise_user, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk_world(authorities, open_windows):
    clerk = make_enterprise_user(username="keeps-work")
    yuzhong = authorities["500103"]
    draft = make_project(clerk.membership.enterprise, clerk, yuzhong, stages=[])
    full = make_project(clerk.membership.enterprise, clerk, yuzhong)
    return clerk, draft, full


def stage_url(project, code="registration"):
    return reverse("projects:stage_edit", kwargs={"pk": project.pk, "stage_code": code})


def registration_post(**extra):
    return {
        "registration_number": "BJ-KEEP-0001",
        "registered_on": "2016-03-01",
        "owner_name": "重庆市某建设单位",
        "scale": "地上18层",
        **extra,
    }


def test_the_fields_and_the_file_chosen_with_them_are_saved_together(client, clerk_world):
    clerk, draft, _full = clerk_world
    client.force_login(clerk)
    response = client.post(
        stage_url(draft), registration_post(file=SimpleUploadedFile("立项批文.pdf", PDF_BYTES)), follow=True
    )
    assert "已上传“立项批文.pdf”" in response.content.decode()
    stage = RegistrationStage.objects.get(project=draft)
    assert (stage.registration_number, stage.scale) == ("BJ-KEEP-0001", "地上18层")
    assert Evidence.objects.filter(project=draft, stage="registration").count() == 1


def test_a_refused_file_keeps_every_typed_value_on_the_page_and_lands_on_its_message(client, clerk_world):
    clerk, draft, _full = clerk_world
    client.force_login(clerk)
    response = client.post(
        stage_url(draft), registration_post(file=SimpleUploadedFile("假的.pdf", EXE_BYTES))
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="upload-error"' in page and "上传失败" in page
    assert 'value="BJ-KEEP-0001"' in page and 'value="地上18层"' in page
    assert 'id="error-summary"' in page and 'href="#id_file"' in page
    assert RegistrationStage.objects.filter(project=draft).exists()  # the fields were saved all the same
    assert not Evidence.objects.filter(project=draft).exists()


def test_a_refused_save_uploads_nothing_and_keeps_the_typed_values(client, clerk_world):
    clerk, draft, _full = clerk_world
    client.force_login(clerk)
    response = client.post(
        stage_url(draft),
        registration_post(
            owner_credit_code="91500103MA5U000001", file=SimpleUploadedFile("a.pdf", PDF_BYTES)
        ),
    )
    page = response.content.decode()
    assert "文件未上传" in page and 'value="地上18层"' in page
    assert not RegistrationStage.objects.filter(project=draft).exists()
    assert not Evidence.objects.filter(project=draft).exists()


def test_required_fields_are_marked_with_their_format(client, clerk_world):
    clerk, draft, _full = clerk_world
    client.force_login(clerk)
    page = client.get(stage_url(draft, "tendering")).content.decode()
    label = re.search(r'<label for="id_winner_credit_code">[^<]*<span class="req">必填</span>', page)
    assert label, "中标单位统一社会信用代码 is required by the self-check"
    assert "格式：18位统一社会信用代码" in page and "格式：18位身份证号码" in page
    assert "格式：日期，如2018-03-05" in page


def test_yes_no_questions_are_required_choices_not_checkboxes(client, clerk_world):
    clerk, _draft, _full = clerk_world
    client.force_login(clerk)
    page = client.get(reverse("projects:project_create")).content.decode()
    assert 'type="checkbox"' not in page
    assert 'id="id_is_completed_0"' in page and "checked" not in page
    response = client.post(reverse("projects:project_create"), {"name": "x", "address": "y"})
    assert 'href="#id_is_completed"' in response.content.decode()  # unanswered: listed in the error summary


def test_a_date_order_error_marks_the_field_being_edited(client, clerk_world):
    clerk, _draft, full = clerk_world
    client.force_login(clerk)
    later = (full.tendering.awarded_on + datetime.timedelta(days=30)).isoformat()
    from django.forms.models import model_to_dict

    values = model_to_dict(full.registration, exclude=["id", "project", "updated_at", "updated_by"])
    values = {k: v for k, v in values.items() if v is not None}
    values["registered_on"] = later
    page = client.post(stage_url(full), values).content.decode()
    field = re.search(r'<div class="field has-error" id="field-registered_on">', page)
    assert field, "the edited date is marked"
    assert "早于" in page


def test_a_locked_records_basic_information_page_shows_the_lock(client, authorities, open_windows):
    clerk = make_enterprise_user(username="locked-clerk")
    submitted = make_project(
        clerk.membership.enterprise, clerk, authorities["500103"], status=Status.SUBMITTED
    )
    client.force_login(clerk)
    page = client.get(reverse("projects:project_edit", kwargs={"pk": submitted.pk})).content.decode()
    assert 'id="locked-notice"' in page and "<fieldset disabled>" in page


def test_no_self_check_link_points_at_an_empty_anchor(client, clerk_world):
    clerk, draft, _full = clerk_world
    client.force_login(clerk)
    page = client.get(reverse("projects:self_check", kwargs={"pk": draft.pk})).content.decode()
    assert '#field-"' not in page
