"""Reused evidence (review.reuse, docs/files.md): the same PDF and a re-saved PNG in the records of two enterprises
of two districts are flagged on both review pages; the other record is linked only for a viewer who may open it;
the city lists reuse across districts; the review page reads a fixed number of queries however many files."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image, ImageDraw, PngImagePlugin

from projects import services
from projects.audit import Actor
from projects.models import AuditEvent, Evidence, Project, Status
from review import reuse
from review.models import EvidenceFingerprint

from .builders import make_enterprise_user, make_project

# A PDF of its own (the builders' default PDF is in every record they make).
REUSED_PDF = (
    b"%PDF-1.4\n% reused completion filing\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n"
)


def scan() -> Image.Image:
    """A picture with detail (a one-colour image has a degenerate perceptual hash and is never matched)."""
    image = Image.new("RGB", (320, 240), "white")
    draw = ImageDraw.Draw(image)
    for n in range(12):
        draw.rectangle(
            [10 + n * 25, 20 + (n % 4) * 40, 30 + n * 25, 70 + (n % 4) * 40], fill=(n * 20, 80, 200 - n * 15)
        )
    draw.ellipse([100, 100, 260, 220], outline="black", width=6)
    draw.line([0, 239, 319, 0], fill="red", width=4)
    return image


def png(image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", **options)
    return out.getvalue()


ORIGINAL_PNG = png(scan(), compress_level=9)
info = PngImagePlugin.PngInfo()
info.add_text("Software", "Scanner re-save")
RESAVED_PNG = png(scan(), compress_level=1, pnginfo=info)


def upload(project, clerk, name, content, stage="completion"):
    return services.add_evidence(
        actor=Actor(clerk), project=project, stage_code=stage, uploaded_file=SimpleUploadedFile(name, content)
    )


def submitted(project) -> Project:
    Project.objects.filter(pk=project.pk).update(status=Status.SUBMITTED)
    project.refresh_from_db()
    return project


@pytest.fixture
def two_records(clerk, yuzhong, liangjiang):
    """Enterprise A's record in 渝中区 and enterprise B's in 两江新区, each with the same PDF and the same picture
    (B's a re-saved copy: another SHA-256)."""
    clerk_b = make_enterprise_user(username="clerk-b")
    a = make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, name="甲企业的综合楼")
    b = make_project(clerk_b.membership.enterprise, clerk_b, liangjiang, evidence=False, name="乙企业的厂房")
    upload(a, clerk, "竣工验收备案表.pdf", REUSED_PDF)
    upload(a, clerk, "现场照片.png", ORIGINAL_PNG)
    upload(b, clerk_b, "备案表.pdf", REUSED_PDF)
    upload(b, clerk_b, "照片.png", RESAVED_PNG)
    return submitted(a), submitted(b)


def review_page(client, user, project) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:projects_project_change", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_resaved_picture_has_another_sha256_but_the_same_fingerprint(two_records):
    a, b = two_records
    a_png, b_png = (Evidence.objects.get(project=p, content_type="image/png") for p in (a, b))
    assert a_png.sha256 != b_png.sha256
    assert a_png.fingerprint.perceptual_hash == b_png.fingerprint.perceptual_hash
    assert not EvidenceFingerprint.objects.filter(evidence__content_type="application/pdf").exists()


def test_a_blank_picture_gets_no_fingerprint():
    assert reuse.perceptual_hash_of(io.BytesIO(png(Image.new("RGB", (64, 64), "white")))) == ""


@pytest.mark.parametrize("side", [0, 1])
def test_both_files_are_flagged_on_both_review_pages_without_naming_a_record_the_reviewer_may_not_see(
    client, reviewer, other_reviewer, two_records, side
):
    project, other = two_records[side], two_records[1 - side]
    user = (reviewer, other_reviewer)[side]

    body = review_page(client, user, project)

    assert "证明材料重复使用提示（2处）" in body
    assert body.count('class="reuse-flag" data-kind="same_file"') == 1
    assert body.count('class="reuse-flag" data-kind="same_picture"') == 1
    assert f"{other.authority.name}的另一个补录项目中（您无权查看该项目）" in body
    assert other.name not in body and other.project_number not in body and other.enterprise.name not in body
    assert reverse("admin:projects_project_change", args=[other.pk]) not in body


def test_the_city_is_given_the_link_to_the_other_record(client, city, two_records):
    a, b = two_records

    body = review_page(client, city, a)

    link = reverse("admin:projects_project_change", args=[b.pk])
    assert body.count(f'<a href="{link}">{b.project_number} {b.name}</a>') == 2
    assert "备案表.pdf" in body and "照片.png" in body


def test_a_reviewer_is_given_the_link_to_a_record_of_its_own_authority(
    client, clerk, reviewer, yuzhong, two_records
):
    a, _b = two_records
    same_district = make_project(
        clerk.membership.enterprise, clerk, yuzhong, evidence=False, name="甲企业的第二栋"
    )
    upload(same_district, clerk, "竣工验收备案表.pdf", REUSED_PDF)
    submitted(same_district)

    body = review_page(client, reviewer, a)

    assert f'<a href="{reverse("admin:projects_project_change", args=[same_district.pk])}">' in body


def test_reuse_is_a_finding_not_a_block(client, reviewer, two_records):
    from review import services as review_services

    a, _b = two_records
    review_services.approve(actor=Actor(reviewer), project=a)
    a.refresh_from_db()
    assert a.status == Status.IN_NOTICE


def test_the_city_lists_reuse_across_districts(client, city, two_records):
    a, b = two_records
    client.force_login(city)

    files = client.get(reverse("review:reuse_list")).content.decode()
    pictures = client.get(reverse("review:reuse_list"), {"kind": "picture"}).content.decode()

    assert "同一文件：2个项目" in files and "竣工验收备案表.pdf" in files and "备案表.pdf" in files
    assert "相同图片：2个项目" in pictures and "现场照片.png" in pictures and "照片.png" in pictures
    for body in (files, pictures):
        assert a.authority.name in body and b.authority.name in body


@pytest.mark.parametrize("who", ["reviewer", "clerk"])
def test_the_reuse_list_is_refused_to_anyone_but_the_city_and_the_refusal_is_audited(client, request, who):
    user = request.getfixturevalue(who)
    client.force_login(user)

    response = client.get(reverse("review:reuse_list"))

    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=user, action="reuse.view.refused").exists()


def test_the_review_page_reads_the_same_queries_with_1_and_12_files_a_stage(
    client, clerk, reviewer, yuzhong, liangjiang
):
    clerk_b = make_enterprise_user(username="clerk-b")
    elsewhere = make_project(clerk_b.membership.enterprise, clerk_b, liangjiang, evidence=False, name="他处")
    upload(elsewhere, clerk_b, "a.pdf", REUSED_PDF)
    upload(elsewhere, clerk_b, "b.png", RESAVED_PNG)
    submitted(elsewhere)

    def record(name, files):
        project = make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, name=name)
        upload(project, clerk, "a.pdf", REUSED_PDF)
        upload(project, clerk, "b.png", ORIGINAL_PNG)
        for n in range(files - 2):
            upload(project, clerk, f"{n}.pdf", REUSED_PDF + str(n).encode())
        return submitted(project)

    small, large = record("一个文件", 2), record("十二个文件", 12)
    client.force_login(reviewer)

    def count(project):
        client.get(reverse("admin:projects_project_change", args=[project.pk]))
        with CaptureQueriesContext(connection) as queries:
            body = client.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
        assert "reuse-flag" in body
        return len(queries)

    assert count(small) == count(large)


def test_the_migration_fingerprints_the_images_stored_before_it(two_records):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("review.migrations.0004_evidence_fingerprint")
    EvidenceFingerprint.objects.all().delete()

    migration.fingerprint_existing_images(apps, None)

    assert EvidenceFingerprint.objects.count() == 2  # the two pictures; PDFs have none
