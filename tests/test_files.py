"""Uploaded files, one way for every app (docs/files.md): sniffed and hashed by projects.files, stored as a
StoredFile row, served by private_file_response with the detected type's extension, archived never deleted."""

import hashlib
import importlib
from urllib.parse import quote

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import FileField
from django.urls import reverse

from projects import files
from projects.audit import Actor
from projects.models import Evidence, RecordLocked, Status, private_storage
from publicity import services as publicity_services
from publicity.models import Objection, ObjectionEvidence
from tests.builders import (
    EXE_BYTES,
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_files(tmp_path, monkeypatch):
    """Every private FileField on a storage in a temporary folder: nothing is written into the working tree."""
    storage = FileSystemStorage(location=tmp_path / "private")
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField) and getattr(field, "_storage_callable", None) is private_storage:
                monkeypatch.setattr(field, "storage", storage)
    return storage


def upload(name, content, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# ---------------------------------------------------------------- sniffing and hashing


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [
        (PDF_BYTES, "application/pdf", "pdf"),
        (PNG_BYTES, "image/png", "png"),
        (JPEG_BYTES, "image/jpeg", "jpg"),
    ],
)
def test_it_decides_the_type_by_content_and_hashes_the_whole_file(content, content_type, extension):
    uploaded = upload("whatever.html", content, "text/html")

    checked = files.check_upload(uploaded)

    assert checked.content_type == content_type and checked.extension == extension
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert uploaded.read() == content  # rewound for storage


def test_it_refuses_an_executable_named_pdf_in_chinese():
    with pytest.raises(ValidationError) as refused:
        files.check_upload(upload("证明.pdf", EXE_BYTES))

    [message] = refused.value.messages
    assert refused.value.code == "bad_type"
    assert message.startswith("文件“证明.pdf”的内容不是PDF、JPEG或PNG") and "只接受这三种格式" in message


def test_it_refuses_an_empty_file_and_one_over_the_limit(settings):
    with pytest.raises(ValidationError) as empty:
        files.check_upload(upload("a.pdf", b""))
    assert empty.value.code == "empty" and empty.value.messages == ["文件为空，请重新选择。"]

    settings.EVIDENCE_MAX_BYTES = 512 * 1024
    with pytest.raises(ValidationError) as large:
        files.check_upload(upload("a.pdf", PDF_BYTES + b"\0" * (600 * 1024)))
    assert large.value.code == "too_large"
    assert large.value.messages[0].endswith("超过上限512.0KB。")


@pytest.mark.parametrize(
    ("name", "content_type", "served_as"),
    [
        ("evil.html", "application/pdf", "evil.pdf"),
        ("scan.pdf", "image/png", "scan.png"),
        ("照片.JPEG", "image/jpeg", "照片.JPEG"),
        ("photo.jpg", "image/jpeg", "photo.jpg"),
        ("许可证", "application/pdf", "许可证.pdf"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\Users\\a\\report.exe", "application/pdf", "report.pdf"),
        ("", "image/png", "file.png"),
        ("spot-check-7", "", "spot-check-7"),
    ],
)
def test_the_download_name_carries_the_extension_of_the_detected_type(name, content_type, served_as):
    assert files.download_name(name, content_type) == served_as


# ---------------------------------------------------------------- serving


@pytest.fixture
def owner(authorities, open_windows):
    return make_enterprise_user(username="files-owner")


@pytest.fixture
def draft(owner, authorities):
    return make_project(owner.membership.enterprise, owner, authorities["500103"], evidence=False)


def add(client, project, uploaded):
    url = reverse("projects:evidence_upload", kwargs={"pk": project.pk, "stage_code": "permit"})
    return client.post(url, {"file": uploaded, "description": ""}, follow=True)


def served(client, evidence):
    response = client.get(
        reverse("projects:evidence_view", kwargs={"pk": evidence.project_id, "evidence_id": evidence.pk})
    )
    body = b"".join(response.streaming_content)
    return response, body


def test_a_pdf_uploaded_as_html_is_served_as_a_pdf_with_the_private_headers(client, owner, draft):
    client.force_login(owner)
    add(client, draft, upload("evil.html", PDF_BYTES, "text/html"))
    evidence = Evidence.objects.get(project=draft)
    assert evidence.original_name == "evil.html"  # kept as the uploader named it

    response, body = served(client, evidence)

    assert response.status_code == 200 and body == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == "inline; filename*=UTF-8''evil.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self'; object-src 'self'; sandbox"
    )
    assert response["Cache-Control"] == "private, no-store"


def test_a_chinese_name_is_served_in_rfc_5987_form_with_the_detected_extension(client, owner, draft):
    client.force_login(owner)
    add(client, draft, upload("施工许可证; 扫描件.html", PNG_BYTES, "text/html"))
    evidence = Evidence.objects.get(project=draft)

    response, _body = served(client, evidence)

    assert response["Content-Type"] == "image/png"
    expected = quote("施工许可证; 扫描件.png", safe="")
    assert response["Content-Disposition"] == f"inline; filename*=UTF-8''{expected}"
    assert ";" not in response["Content-Disposition"].split("filename*=")[1]  # the name cannot end the value


def test_the_stored_row_records_what_the_checks_found(client, owner, draft, private_files):
    client.force_login(owner)
    add(client, draft, upload("竣工验收.pdf", PDF_BYTES))
    evidence = Evidence.objects.get(project=draft)

    assert (evidence.content_type, evidence.size) == ("application/pdf", len(PDF_BYTES))
    assert evidence.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert evidence.uploaded_by == owner and evidence.uploaded_at is not None
    assert evidence.download_name == "竣工验收.pdf"
    assert evidence.file.name.startswith(f"evidence/{draft.pk}/permit/{evidence.sha256[:16]}-")
    assert private_files.exists(evidence.file.name)


def test_a_stored_file_is_archived_never_deleted(client, owner, draft):
    client.force_login(owner)
    add(client, draft, upload("a.pdf", PDF_BYTES))
    evidence = Evidence.objects.get(project=draft)

    with pytest.raises(RecordLocked):
        evidence.delete()
    evidence.archive(by=owner, reason="传错了")
    evidence.save()

    evidence.refresh_from_db()
    assert not evidence.is_active and evidence.archived_by == owner and evidence.archive_reason == "传错了"


# ---------------------------------------------------------------- objection evidence


@pytest.fixture
def notice(owner, authorities):
    project = make_project(
        owner.membership.enterprise, owner, authorities["500103"], status=Status.IN_NOTICE, evidence=False
    )
    return publicity_services.start_notice(actor=Actor(user=owner), project=project, reason="审核通过")


def object_with(notice, uploaded):
    return publicity_services.file_objection(
        notice_id=notice.pk,
        name="王某某",
        contact="13787654321",
        reason="施工单位与事实不符。",
        evidence=uploaded,
    )


def test_an_objectors_file_is_a_stored_file_row_named_on_the_objection_too(notice):
    objection = object_with(notice, upload("现场照片.html", JPEG_BYTES, "text/html"))

    stored = ObjectionEvidence.objects.get(objection=objection)
    assert stored.original_name == "现场照片.html" and stored.download_name == "现场照片.jpg"
    assert (stored.content_type, stored.size) == ("image/jpeg", len(JPEG_BYTES))
    assert stored.sha256 == hashlib.sha256(JPEG_BYTES).hexdigest()
    assert stored.uploaded_by is None and stored.uploaded_at == objection.submitted_at
    assert stored.file.name.startswith(f"objections/{objection.reference}/")
    # The objection's own columns still name the same stored file (nothing reads them any more).
    assert objection.evidence.name == stored.file.name
    assert objection.evidence_content_type == "image/jpeg"


def test_an_objection_without_a_file_has_no_stored_file(notice):
    objection = object_with(notice, None)

    assert not ObjectionEvidence.objects.filter(objection=objection).exists() and not objection.evidence


def test_a_file_name_with_markup_from_the_public_is_replaced_not_refused(notice):
    objection = object_with(notice, upload("<img src=x onerror=alert(1)>.pdf", PDF_BYTES))

    assert objection.evidence_file.original_name == f"{objection.reference}.pdf"


def test_the_migration_gives_every_existing_objection_file_its_row(notice, private_files):
    """publicity/migrations/0004's backfill, run on objections filed before it (file on the objection only)."""
    with_file = object_with(notice, upload("材料.pdf", PDF_BYTES))
    missing = object_with(notice, upload("照片.png", PNG_BYTES))
    without = object_with(notice, None)
    ObjectionEvidence.objects.all()._raw_delete(ObjectionEvidence.objects.db)  # as before the migration
    private_files.delete(missing.evidence.name)  # a file lost from storage still gets its row

    migration = importlib.import_module("publicity.migrations.0004_objection_evidence")
    migration.backfill(apps, None)

    rows = {row.objection_id: row for row in ObjectionEvidence.objects.all()}
    assert set(rows) == {with_file.pk, missing.pk} and without.pk not in rows
    first = rows[with_file.pk]
    assert first.file.name == with_file.evidence.name
    assert first.original_name == f"{with_file.reference}.pdf" and first.content_type == "application/pdf"
    assert (first.size, first.sha256) == (len(PDF_BYTES), hashlib.sha256(PDF_BYTES).hexdigest())
    assert first.uploaded_at == with_file.submitted_at and first.uploaded_by is None
    assert (rows[missing.pk].size, rows[missing.pk].sha256) == (0, "")
    assert Objection.objects.count() == 3


def test_the_console_serves_the_objection_file_after_its_check(client, notice, authorities):
    object_with(notice, upload("材料.pdf", PDF_BYTES))
    objection = Objection.objects.get(notice=notice)
    client.force_login(make_reviewer(authorities["500103"], username="files-reviewer"))

    url = reverse("admin:projects_project_objection_evidence", args=[notice.project_id, objection.pk])
    response = client.get(url)

    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"


def test_an_upload_content_file_is_hashed_as_an_upload_is():
    content = ContentFile(PDF_BYTES, name="x.pdf")
    assert files.sha256_of(content) == hashlib.sha256(PDF_BYTES).hexdigest()
