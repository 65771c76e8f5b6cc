"""A member of the public in real headless Chromium: finds a noticed record in the public list, files an
objection on its notice page (with a PDF), gets a reference number, and looks the objection up by it."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from projects import services as project_services
from projects.audit import Actor
from projects.models import Project, Status
from publicity.models import Notice, NoticeState, Objection
from review import services as review_services
from tests.builders import PDF_BYTES, EnterpriseFactory, make_enterprise_user, make_project, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTACT_PHONE = "13912345678"


def test_a_visitor_files_an_objection_and_looks_it_up_by_its_reference(
    page, live_server, authorities, open_windows
):
    cache.clear()  # the throttle's counts live in the cache, which a transactional test does not roll back
    enterprise = EnterpriseFactory(name="重庆渝州建工集团有限公司", contact_phone=CONTACT_PHONE)
    clerk = make_enterprise_user(enterprise=enterprise, username="clerk")
    reviewer = make_reviewer(authorities["500103"], username="yz-reviewer")
    project = make_project(enterprise, clerk, authorities["500103"], name="渝中区解放碑商务楼")
    project = project_services.submit_project(actor=Actor(user=clerk), project=project)
    review_services.approve(actor=Actor(user=reviewer), project=project)
    notice = Notice.objects.get(project=project)

    page.goto("/notices/")
    expect(page.locator("h1")).to_have_text("建设工程项目补录信息公示")
    page.fill("#id_q", "解放碑")
    page.click("form.search button[type=submit]")
    expect(page.locator("#notices tbody tr")).to_have_count(1)
    page.click("#notices >> text=渝中区解放碑商务楼")

    expect(page.locator("h1")).to_have_text("渝中区解放碑商务楼")
    expect(page.locator("#notice-facts")).to_contain_text(notice.snapshot.content_hash)
    expect(page.locator("#id_website")).not_to_be_in_viewport()  # the honeypot: there, but not for people
    page.fill("#id_name", "王某某")
    page.fill("#id_contact", "13787654321")
    page.fill("#id_reason", "该项目实际施工单位并非补录企业。")
    page.set_input_files(
        "#id_evidence",
        files=[{"name": "现场照片说明.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}],
    )
    page.click("#submit-objection")

    expect(page.locator("#objection-filed h1")).to_have_text("异议已受理")
    reference = page.locator("#reference").inner_text()
    objection = Objection.objects.get(notice=notice)
    assert reference == objection.reference
    assert objection.evidence_content_type == "application/pdf"
    assert Notice.objects.get(pk=notice.pk).state == NoticeState.PAUSED
    assert Project.objects.get(pk=project.pk).status == Status.OBJECTED

    # The objector follows the link, and also types the reference into the lookup form.
    page.click("#lookup-link")
    expect(page.locator("#objection-status #status")).to_have_text("待处理")
    page.goto("/objections/lookup/")
    page.fill("#id_reference", reference.lower())
    page.click("#lookup")
    expect(page.locator("#objection-status #status")).to_have_text("待处理")
    expect(page.locator("#objection-status")).to_contain_text(reference)
    expect(page.locator("body")).not_to_contain_text("13787654321")

    # The notice is still public, marked as paused.
    page.goto(f"/notices/{notice.pk}/")
    expect(page.locator("#notice-state")).to_have_text("暂停计时（异议处理中）")
    expect(page.locator("body")).not_to_contain_text(CONTACT_PHONE)
