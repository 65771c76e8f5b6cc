"""A design record after review (docs/lifecycle.md, "Design records"; docs/design-projects.md): the same snapshot,
notice and library as a construction record, the designers' ID numbers never public, its national tables
(TBProjectInfo, TBTenderInfo 002, TBContractRecordManage 200, TBProjectCensorInfo, TBProjectDesignEconUserInfo)
accepted by the receiving side's checks, and the setting that sends it to the library without a notice."""

import datetime

import pytest
from django.urls import reverse

from projects import services as project_services
from projects.audit import Actor
from projects.models import Status
from publicity import services as publicity_services
from publicity.models import Notice, NoticeState, OutboxMessage, Snapshot
from review import services as review_services
from simulator import standard
from tests.builders import (
    DESIGNER_ID,
    make_agency_reviewer,
    make_design_enterprise_user,
    make_design_project,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(yuzhong, open_windows):
    """A design record submitted and approved by its agency's reviewer, through the services."""

    def approve():
        designer = make_design_enterprise_user()
        reviewer = make_agency_reviewer(username=f"agency-{designer.pk}")
        project = make_design_project(designer.membership.enterprise, designer, yuzhong)
        project = project_services.submit_project(actor=Actor(user=designer), project=project)
        return review_services.approve(actor=Actor(user=reviewer), project=project)

    return approve


def test_an_approved_design_record_is_noticed_without_its_designers_id_numbers(client, approved):
    project = approved()

    notice = Notice.objects.get(project=project)
    assert project.status == Status.IN_NOTICE and notice.snapshot.content["kind"] == "design"
    page = client.get(reverse("publicity:notice_detail", args=[notice.pk])).content.decode()
    assert project.name in page and "王设计" in page and "项目负责人" in page
    assert DESIGNER_ID not in page
    assert "施工许可" not in page and "是否已竣工" not in page and "项目经理" not in page


def test_after_the_notice_it_enters_the_library_with_the_national_tables_the_receivers_accept(approved):
    project = approved()
    notice = Notice.objects.get(project=project)

    publicity_services.close_expired_notices(now=notice.ends_at + datetime.timedelta(seconds=1))

    [message] = OutboxMessage.objects.filter(project=project)
    payload = message.payload
    assert set(payload) == {
        "TBProjectInfo",
        "TBTenderInfo",
        "TBContractRecordManage",
        "TBProjectCensorInfo",
        "TBProjectDesignEconUserInfo",
    }
    info = payload["TBProjectInfo"][0]
    assert (info["PrjTypeNum"], info["BuildCorpName"]) == ("01", "重庆市渝中区城市建设投资有限公司")
    assert payload["TBTenderInfo"][0]["TenderClassNum"] == "002"
    assert payload["TBContractRecordManage"][0]["ContractTypeNum"] == "200"
    censor = payload["TBProjectCensorInfo"][0]
    assert censor["DesignCorpCode"] == project.enterprise.credit_code
    assert censor["OneCensorWfqtCount"] == 1
    people = payload["TBProjectDesignEconUserInfo"]
    assert [(p["UserName"], p["PrjDuty"], p["CensorNum"]) for p in people] == [
        ("王设计", "项目负责人", censor["CensorNum"]),
        ("赵结构", "专业负责人", censor["CensorNum"]),
    ]
    assert standard.problems(project.project_number, payload) == []

    publicity_services.mark_delivered(message.pk, "CQ-DESIGN-0001")
    project.refresh_from_db()
    assert project.status == Status.IN_NATIONAL_LIBRARY


def test_the_receivers_refuse_a_designer_with_a_wrong_id_number(approved):
    project = approved()
    payload = publicity_services.national_payload(project, Snapshot.objects.get(project=project).content)
    payload["TBProjectDesignEconUserInfo"][0]["IDCard"] = DESIGNER_ID[:-1] + (
        "0" if DESIGNER_ID[-1] != "0" else "1"
    )
    assert [p["field"] for p in standard.problems(project.project_number, payload)] == ["IDCard"]


def test_without_notices_for_design_records_an_approved_one_goes_straight_to_the_library(settings, approved):
    settings.DESIGN_PROJECTS_NOTICED = False

    project = approved()

    assert project.status == Status.ENTERING
    assert not Notice.objects.filter(project=project).exists()
    [message] = OutboxMessage.objects.filter(project=project)
    assert message.snapshot.content["kind"] == "design"
    assert standard.problems(project.project_number, message.payload) == []


def test_the_setting_leaves_construction_records_noticed(settings, clerk, reviewer, yuzhong, open_windows):
    from tests.builders import make_project

    settings.DESIGN_PROJECTS_NOTICED = False
    project = make_project(clerk.membership.enterprise, clerk, yuzhong)
    project = project_services.submit_project(actor=Actor(user=clerk), project=project)
    project = review_services.approve(actor=Actor(user=reviewer), project=project)
    assert Notice.objects.get(project=project).state == NoticeState.RUNNING


def test_a_design_record_in_the_library_is_locked(approved):
    project = approved()
    with pytest.raises(project_services.RecordLocked):
        project_services.save_stage(
            actor=Actor(user=project.created_by),
            project=project,
            stage_code="drawing_review",
            data={"designers": []},
        )
