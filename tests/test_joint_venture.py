"""联合体成员 as name + credit-code pairs: each code checked like every other (LEGAL-2), kept structured."""

import re

import pytest
from django.urls import reverse

from imports import services as import_services
from projects import identifiers, rules
from projects.models import ContractStage
from tests.builders import credit_code, make_enterprise_user, make_project

GOOD = credit_code("91500103MA5U00001")
OTHER = credit_code("91500112MA5U00002")


def test_members_are_read_one_per_line_as_name_and_code():
    text = f"重庆 某建设 有限公司 {GOOD}\n某设计院，{OTHER.lower()}\n\n没有代码的公司"
    assert identifiers.parse_joint_venture_members(text) == [
        {"name": "重庆 某建设 有限公司", "credit_code": GOOD},
        {"name": "某设计院", "credit_code": OTHER},
        {"name": "没有代码的公司", "credit_code": ""},
    ]
    members = identifiers.parse_joint_venture_members(f"甲公司 {GOOD}")
    assert (
        identifiers.parse_joint_venture_members(identifiers.format_joint_venture_members(members)) == members
    )


def test_each_code_is_checked_and_a_missing_one_is_named():
    wrong = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")
    problems = identifiers.joint_venture_member_problems(
        [
            {"name": "甲", "credit_code": GOOD},
            {"name": "乙", "credit_code": wrong},
            {"name": "丙", "credit_code": ""},
        ]
    )
    assert len(problems) == 2
    assert "联合体成员“乙”" in problems[0] and "联合体成员“丙”缺少统一社会信用代码" in problems[1]
    # The old free text "某公司 9150010" is no longer accepted silently.
    assert identifiers.joint_venture_member_problems(
        identifiers.parse_joint_venture_members("某公司 9150010")
    )


@pytest.mark.django_db
def test_the_contract_form_refuses_a_wrong_member_code_and_keeps_members_structured(
    client, authorities, open_windows
):
    clerk = make_enterprise_user(username="jv-clerk")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"])
    client.force_login(clerk)
    from django.forms.models import model_to_dict

    values = model_to_dict(project.contract, exclude=["id", "project", "updated_at", "updated_by"])
    values = {k: v for k, v in values.items() if v not in (None, [])}
    url = reverse("projects:stage_edit", kwargs={"pk": project.pk, "stage_code": "contract"})
    refused = client.post(url, {**values, "joint_venture_members": "某公司 9150010"})
    page = refused.content.decode()
    assert refused.status_code == 200 and "联合体成员“某公司”" in page, re.findall(
        r"<p class=\"error\"[^>]*>([^<]*)", page
    )
    assert ContractStage.objects.get(project=project).joint_venture_members == []

    client.post(url, {**values, "joint_venture_members": f"甲公司 {GOOD}\n乙公司 {OTHER}"})
    stored = ContractStage.objects.get(project=project).joint_venture_members
    assert stored == [{"name": "甲公司", "credit_code": GOOD}, {"name": "乙公司", "credit_code": OTHER}]
    findings = rules.evaluate(rules.load_project(project.pk))
    assert not [f for f in findings if f.field == "joint_venture_members"]
    # Exported and imported back: unchanged.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from projects.audit import Actor

    job = import_services.start_import(
        actor=Actor(user=clerk),
        workbook=SimpleUploadedFile("e.xlsx", import_services.export_bytes(clerk.membership.enterprise)),
    )
    job = import_services.run_job(job.pk)
    assert job.unchanged_count == 1, job.results


def test_a_snapshot_keeps_the_members_as_pairs_for_the_national_platform():
    from publicity import national_standard, snapshots

    members = [{"name": "甲公司", "credit_code": GOOD}, {"name": "乙公司", "credit_code": OTHER}]
    stored = snapshots.plain(members)
    assert stored == members
    assert national_standard.joint_venture(stored) == ("甲公司;乙公司", f"{GOOD};{OTHER}")
