"""受理回执: issued on submission, read back from its PDF (pypdf), its QR code holding the public verification URL
(no pure-Python QR decoder is on PyPI worth pinning: the code's image in the PDF is compared module by module with
segno's matrix of the expected URL), the verification page public and without private data; the progress timeline."""

import datetime
import io
import re

import pytest
import segno
from django.urls import reverse
from pypdf import PdfReader

from projects import receipts, services, working_days
from projects.audit import Actor
from projects.models import Receipt
from tests.builders import make_enterprise_user, make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(authorities, open_windows):
    clerk = make_enterprise_user(username="receipt-clerk")
    project = make_project(clerk.membership.enterprise, clerk, authorities["500103"])
    services.submit_project(actor=Actor(user=clerk), project=project)
    return clerk, project, Receipt.objects.get(project=project)


def test_submission_issues_a_receipt_whose_pdf_holds_the_numbers(client, submitted):
    clerk, project, receipt = submitted
    assert receipts.is_intact(receipt)
    client.force_login(clerk)
    response = client.get(
        reverse("projects:receipt_pdf", kwargs={"pk": project.pk, "receipt_id": receipt.pk})
    )
    assert response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    flat = re.sub(r"\s+", "", text)
    assert "受理回执" in flat and receipt.number in flat and project.project_number in flat
    assert project.registration.registration_number in flat and project.permit.permit_number in flat
    for item in receipt.content["evidence"]:
        assert item["sha256"] in flat
    assert receipt.sha256 in flat and "渝中区" in flat
    # The review time limit in working days of the official calendar (the one setting), with its last day.
    assert receipt.content["time_limit_working_days"] == 20
    assert f"20个工作日，应于{receipts.due_on(receipt):%Y年%m月%d日}前审核完毕" in flat


def test_the_time_limit_ends_after_that_many_working_days_of_the_official_calendar():
    # 2025: National Day and Mid-Autumn from 1 to 8 October, Saturday 11 October a working day.
    assert working_days.add_working_days(datetime.date(2025, 9, 30), 2) == datetime.date(2025, 10, 10)
    assert working_days.add_working_days(datetime.date(2025, 10, 10), 1) == datetime.date(2025, 10, 11)
    assert working_days.add_working_days(datetime.date(2025, 10, 10), 0) == datetime.date(2025, 10, 10)
    submitted = Receipt(content={"submitted_at": "2025-09-30T10:00:00+08:00", "time_limit_working_days": 2})
    assert receipts.due_on(submitted) == datetime.date(2025, 10, 10)
    assert receipts.time_limit_text(submitted) == "2个工作日"
    # A receipt issued when the limit was printed in calendar days keeps what it printed (its content is hashed).
    older = Receipt(content={"submitted_at": "2025-09-30T10:00:00+08:00", "time_limit_days": 10})
    assert receipts.due_on(older) == datetime.date(2025, 10, 10)
    assert receipts.time_limit_text(older) == "10日"


def test_its_qr_code_encodes_the_public_verification_url(client, submitted):
    clerk, project, receipt = submitted
    client.force_login(clerk)
    response = client.get(
        reverse("projects:receipt_pdf", kwargs={"pk": project.pk, "receipt_id": receipt.pk})
    )
    url = "http://testserver" + reverse("projects:receipt_verify", kwargs={"token": receipt.token})
    [image] = [
        i.image.convert("L") for page in PdfReader(io.BytesIO(response.content)).pages for i in page.images
    ]
    matrix = segno.make(url, error="m", micro=False).matrix
    size = len(matrix)
    module = image.width / size
    read = [
        [image.getpixel((int((x + 0.5) * module), int((y + 0.5) * module))) < 128 for x in range(size)]
        for y in range(size)
    ]
    assert read == [[bool(v) for v in row] for row in matrix]


def test_the_verification_page_answers_without_login_and_shows_nothing_private(client, submitted):
    _clerk, project, receipt = submitted
    response = client.get(reverse("projects:receipt_verify", kwargs={"token": receipt.token}))
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        receipt.number in page
        and receipt.sha256 in page
        and "回执内容完整" in page
        and "已提交待审核" in page
    )
    assert project.enterprise.name not in page and project.enterprise.credit_code not in page
    assert receipt.content["submitted_by"] not in page
    assert all(e["name"] not in page for e in receipt.content["evidence"])
    assert client.get(reverse("projects:receipt_verify", kwargs={"token": "0" * 32})).status_code == 404


def test_the_record_page_shows_the_progress_timeline(client, submitted):
    clerk, project, receipt = submitted
    client.force_login(clerk)
    page = client.get(reverse("projects:project_detail", kwargs={"pk": project.pk})).content.decode()
    assert 'id="timeline"' in page and "已提交待审核" in page and "审核时限20个工作日" in page
    assert receipt.number in page
