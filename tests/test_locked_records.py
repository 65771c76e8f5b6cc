"""A record in the national library is locked for good (docs/lifecycle.md): no form, admin page, service, model method or
(on PostgreSQL) SQL statement changes it. The only way to change it is a correction approved by the city.

Each test tries one path on a record that entered the library the real way (approved by its district, noticed,
closed by the sweep, delivered through the outbox; only the HTTP call is left out) and checks that the path is
refused and that nothing about the record changed: its row, its six stages, its evidence, its snapshots, notices,
library entry and deliveries. Runs on SQLite and PostgreSQL; the database-trigger tests need PostgreSQL.

tests/test_delivery.py runs the same kind of checks once more on a record entered through a real Celery worker.
"""

import datetime
from contextlib import contextmanager

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from backfill_portal.bulk_copy import copy_new_rows
from projects import services as project_services
from projects.audit import Actor
from projects.forms import ProjectForm, stage_form_class
from projects.models import (
    STAGE_MODELS,
    STAGE_ORDER,
    AuditEvent,
    Evidence,
    Project,
    RecordLocked,
    ReviewComment,
    Status,
    SubmissionVersion,
)
from publicity import services as publicity_services
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    Objection,
    OutboxMessage,
    OutboxState,
    Snapshot,
)
from review import services as review_services
from review.models import ReviewDecision
from tests.builders import PDF_BYTES, EnterpriseFactory, form_data, make_enterprise_user, make_project
from tests.needs import needs_service

pytestmark = pytest.mark.django_db

ENTERED = Status.IN_NATIONAL_LIBRARY
on_postgresql = needs_service(
    connection.vendor == "postgresql", reason="the triggers of projects/migrations/0005 are PostgreSQL's"
)


# ---------------------------------------------------------------- a record in the library, the real way


@pytest.fixture
def superuser(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("root", "root@example.com", "x")


def enter_library(project) -> Project:
    """The notice ends with no objection standing, the sweep closes it, the platform accepts the outbox row."""
    Notice.objects.filter(project=project, state=NoticeState.RUNNING).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert publicity_services.close_expired_notices() == 1
    message = OutboxMessage.objects.get(project=project, state=OutboxState.PENDING)
    publicity_services.mark_delivered(message.pk, f"NP-{project.project_number}")
    project = Project.objects.get(pk=project.pk)
    assert project.status == ENTERED
    return project


@pytest.fixture
def entered(clerk, reviewer, yuzhong) -> Project:
    project = make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    review_services.approve(actor=Actor(user=reviewer), project=project)
    return enter_library(project)


def state_of(project) -> dict:
    """Everything that makes up the record and its publication, as stored."""
    return {
        "project": Project.objects.filter(pk=project.pk).values().get(),
        "stages": {
            code: list(model.objects.filter(project=project).values()) for code, model in STAGE_MODELS.items()
        },
        "evidence": list(Evidence.objects.filter(project=project).order_by("id").values()),
        "snapshots": list(
            Snapshot.objects.filter(project=project).order_by("id").values_list("id", "content_hash")
        ),
        "notices": list(
            Notice.objects.filter(project=project).order_by("id").values_list("id", "state", "ends_at")
        ),
        "library": LibraryEntry.objects.filter(project=project).values().get(),
        "outbox": list(OutboxMessage.objects.filter(project=project).order_by("id").values()),
        "versions": SubmissionVersion.objects.filter(project=project).count(),
        "decisions": ReviewDecision.objects.filter(project=project).count(),
        "comments": ReviewComment.objects.filter(project=project).count(),
    }


@contextmanager
def nothing_changes(project):
    before = state_of(project)
    yield
    assert state_of(project) == before


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def an_evidence(project) -> Evidence:
    return Evidence.objects.filter(project=project, archived_at__isnull=True).order_by("id").first()


# ---------------------------------------------------------------- the enterprise's pages


def test_it_refuses_the_project_form(client, clerk, entered):
    client.force_login(clerk)
    data = {**form_data(ProjectForm(instance=entered)), "name": "改名后的工程"}
    assert ProjectForm(data, instance=Project(pk=None)).is_valid(), "a POST an editable record would take"

    with nothing_changes(entered):
        response = client.post(reverse("projects:project_edit", args=[entered.pk]), data, follow=True)

    assert "不能修改" in messages_of(response)


@pytest.mark.parametrize("stage_code", STAGE_ORDER)
def test_it_refuses_every_stage_form(client, clerk, entered, stage_code):
    stage = STAGE_MODELS[stage_code].objects.get(project=entered)
    form_class = stage_form_class(stage_code)
    data = form_data(form_class(instance=stage))
    assert form_class(data, instance=stage).is_valid(), "a POST an editable record would take"
    client.force_login(clerk)

    with nothing_changes(entered):
        response = client.post(
            reverse("projects:stage_edit", args=[entered.pk, stage_code]), data, follow=True
        )

    assert "不能修改" in messages_of(response)


def test_it_refuses_an_evidence_upload(client, clerk, entered):
    client.force_login(clerk)
    upload = SimpleUploadedFile("补充.pdf", PDF_BYTES, content_type="application/pdf")

    with nothing_changes(entered):
        response = client.post(
            reverse("projects:evidence_upload", args=[entered.pk, "permit"]),
            {"file": upload, "description": "补充材料"},
            follow=True,
        )

    assert "不能修改" in messages_of(response)


def test_it_refuses_to_archive_evidence(client, clerk, entered):
    client.force_login(clerk)
    evidence = an_evidence(entered)

    with nothing_changes(entered):
        response = client.post(
            reverse("projects:evidence_archive", args=[entered.pk, evidence.pk]),
            {"reason": "上传错了"},
            follow=True,
        )

    assert "不能修改" in messages_of(response)


@pytest.mark.parametrize("url_name", ["projects:project_submit", "projects:project_withdraw"])
def test_it_refuses_submit_and_withdraw(client, clerk, entered, url_name):
    client.force_login(clerk)

    with nothing_changes(entered):
        response = client.post(
            reverse(url_name, args=[entered.pk]), {"expected_status": ENTERED}, follow=True
        )

    assert "已入全国平台项目库" in messages_of(response)


# ---------------------------------------------------------------- the admin console


def change_form_post(project) -> dict:
    """A forged change-form POST: the project's fields changed, and inline formsets for its stages and evidence
    (there are none on the page: if one is ever added, this is what it would receive)."""
    data = {**form_data(ProjectForm(instance=project)), "name": "改名后的工程", "_save": "保存"}
    for model in STAGE_MODELS.values():
        prefix = model._meta.model_name
        stage = model.objects.get(project=project)
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-INITIAL_FORMS": "1",
                f"{prefix}-0-id": str(stage.pk),
                f"{prefix}-0-project": str(project.pk),
                f"{prefix}-0-{model.document_field}": "改过的编号",
            }
        )
    evidence = an_evidence(project)
    data.update(
        {
            "evidence_set-TOTAL_FORMS": "1",
            "evidence-TOTAL_FORMS": "1",
            "evidence-INITIAL_FORMS": "1",
            "evidence-0-id": str(evidence.pk),
            "evidence-0-DELETE": "on",
        }
    )
    return data


@pytest.mark.parametrize("who", ["superuser", "reviewer", "city"])
def test_it_refuses_the_admin_change_form_with_its_inlines(client, entered, who, request):
    client.force_login(request.getfixturevalue(who))
    change_url = reverse("admin:projects_project_change", args=[entered.pk])

    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert 'name="name"' not in page.content.decode()

    with nothing_changes(entered):
        assert client.post(change_url, change_form_post(entered)).status_code == 403
        assert (
            client.post(
                reverse("admin:projects_project_delete", args=[entered.pk]), {"post": "yes"}
            ).status_code
            == 403
        )


@pytest.mark.parametrize("who", ["superuser", "reviewer"])
def test_no_admin_page_changes_or_deletes_a_part_of_a_locked_record(entered, who, request):
    """Whatever is registered in the admin for the record and its parts, now or later, cannot change it."""
    http = RequestFactory().post("/admin/")
    http.user = request.getfixturevalue(who)
    parts = {
        Project: entered,
        Evidence: an_evidence(entered),
        Snapshot: Snapshot.objects.filter(project=entered).first(),
        LibraryEntry: LibraryEntry.objects.get(project=entered),
        Notice: Notice.objects.filter(project=entered).first(),
        **{model: model.objects.get(project=entered) for model in STAGE_MODELS.values()},
    }
    registered = {model: admin.site._registry[model] for model in parts if admin.site.is_registered(model)}
    assert Project in registered

    for model, model_admin in registered.items():
        obj = parts[model]
        assert not model_admin.has_change_permission(http, obj), model.__name__
        assert not model_admin.has_delete_permission(http, obj), model.__name__
        assert not model_admin.get_inline_instances(http, obj), (
            f"{model.__name__} has inlines: keep them read-only"
        )


@pytest.mark.parametrize(
    "url_name, data",
    [
        ("approve", {"comment": "同意"}),
        ("return", {"text_1": "请修改"}),
        ("reject", {"ground": "false_information", "reason": "材料虚假", "confirmed": "on"}),
    ],
)
def test_it_refuses_the_reviewers_decisions(client, reviewer, entered, url_name, data):
    client.force_login(reviewer)

    with nothing_changes(entered):
        response = client.post(
            reverse(f"admin:projects_project_{url_name}", args=[entered.pk]),
            {"expected_status": ENTERED, **data},
            follow=True,
        )

    assert "已入全国平台项目库" in messages_of(response)


def test_it_refuses_to_retry_a_delivered_record(client, reviewer, entered):
    message = OutboxMessage.objects.get(project=entered)
    client.force_login(reviewer)

    with nothing_changes(entered):
        response = client.post(
            reverse("admin:projects_project_retry_delivery", args=[entered.pk, message.pk]), follow=True
        )

    assert "只有报送失败的记录" in messages_of(response)


# ---------------------------------------------------------------- the services


def test_it_refuses_the_enterprise_services(clerk, entered):
    actor = Actor(user=clerk)
    upload = SimpleUploadedFile("补充.pdf", PDF_BYTES, content_type="application/pdf")
    calls = {
        "update_project": lambda: project_services.update_project(
            actor=actor, project=entered, data={"name": "改名后的工程"}
        ),
        "save_stage": lambda: project_services.save_stage(
            actor=actor, project=entered, stage_code="permit", data={"survey_enterprise_name": "另一家勘察院"}
        ),
        "add_evidence": lambda: project_services.add_evidence(
            actor=actor, project=entered, stage_code="permit", uploaded_file=upload
        ),
        "archive_evidence": lambda: project_services.archive_evidence(
            actor=actor, evidence=an_evidence(entered), reason="删除"
        ),
        "submit_project": lambda: project_services.submit_project(actor=actor, project=entered),
        "withdraw_project": lambda: project_services.withdraw_project(actor=actor, project=entered),
    }
    for call in calls.values():
        with nothing_changes(entered), pytest.raises(RecordLocked):
            call()
    refused = set(AuditEvent.objects.filter(project=entered).values_list("action", flat=True))
    assert {"project.submit.refused", "project.withdraw.refused"} <= refused


def test_it_refuses_the_reviewers_services(reviewer, entered):
    actor = Actor(user=reviewer)
    calls = {
        "approve": lambda: review_services.approve(actor=actor, project=entered),
        "return_for_revision": lambda: review_services.return_for_revision(
            actor=actor, project=entered, comments=[{"stage": "", "field": "", "text": "请修改"}]
        ),
        "reject": lambda: review_services.reject(
            actor=actor, project=entered, ground="false_information", reason="材料虚假"
        ),
    }
    for call in calls.values():
        with nothing_changes(entered), pytest.raises(RecordLocked):
            call()
    refused = set(AuditEvent.objects.filter(project=entered).values_list("action", flat=True))
    assert {"review.approve.refused", "review.return.refused", "review.reject.refused"} <= refused


def test_it_refuses_the_publicity_services(clerk, reviewer, city, entered):
    notice = Notice.objects.get(project=entered)
    message = OutboxMessage.objects.get(project=entered)

    with nothing_changes(entered):
        with pytest.raises(RecordLocked):
            publicity_services.file_objection(
                notice_id=notice.pk,
                name="张三",
                contact="13800000000",
                reason="不实。",
                ip_address="203.0.113.5",
            )
        with pytest.raises(RecordLocked):
            publicity_services.start_notice(actor=Actor(user=reviewer), project=entered, reason="再公示一次")
        with pytest.raises(RecordLocked):
            publicity_services.retry_failed_delivery(actor=Actor(user=city), message_id=message.pk)
        assert publicity_services.deliver(message.pk) == "skipped"
        assert publicity_services.close_expired_notices() == 0
        publicity_services.mark_delivered(message.pk, "NP-OTHER")  # a late duplicate answer: ignored

    assert not Objection.objects.exists()


def test_it_refuses_to_reopen_a_locked_record_through_an_old_objection(clerk, reviewer, yuzhong):
    """An objection dismissed during the notice cannot be upheld after entry (which would return the record)."""
    project = make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    review_services.approve(actor=Actor(user=reviewer), project=project)
    objection = publicity_services.file_objection(
        notice_id=Notice.objects.get(project=project).pk,
        name="张三",
        contact="13800000000",
        reason="不实。",
        ip_address="203.0.113.5",
    )
    publicity_services.dismiss_objection(
        actor=Actor(user=reviewer), objection_id=objection.pk, outcome="不成立。"
    )
    project = enter_library(project)

    for handle in (publicity_services.uphold_objection, publicity_services.dismiss_objection):
        with nothing_changes(project), pytest.raises(RecordLocked):
            handle(actor=Actor(user=reviewer), objection_id=objection.pk, outcome="改判成立。")


# ---------------------------------------------------------------- the models, below the services


def test_it_refuses_a_model_save_of_the_project(entered):
    project = Project.objects.get(pk=entered.pk)
    project.name = "改名后的工程"

    with nothing_changes(entered):
        with pytest.raises(RecordLocked):
            project.save()
        with pytest.raises(RecordLocked):
            Project.objects.get(pk=entered.pk).delete()
        with pytest.raises(AttributeError):  # FSMField(protected=True): the state moves by transitions only
            project.status = Status.DRAFT
        with pytest.raises(TransitionNotAllowed):
            Project.objects.get(pk=entered.pk).submit()


@pytest.mark.parametrize(
    "fields", [["name"], ["authority"], ["authority_id"], ["enterprise"], ["status", "name"]]
)
def test_it_refuses_a_model_save_of_named_content_fields(entered, liangjiang, fields):
    """save(update_fields=…) skips the content check only when it writes no content field, whether a foreign key
    is named by its field name or its column."""
    project = Project.objects.get(pk=entered.pk)
    project.name = "改名后的工程"
    project.authority = liangjiang
    project.enterprise = EnterpriseFactory(name="另一家企业有限公司")

    with nothing_changes(entered), pytest.raises(RecordLocked):
        project.save(update_fields=fields)


@pytest.mark.parametrize("stage_code", STAGE_ORDER)
def test_it_refuses_a_model_save_or_delete_of_every_stage(entered, stage_code):
    model = STAGE_MODELS[stage_code]
    stage = model.objects.get(project=entered)
    setattr(stage, model.document_field, "改过的编号")

    with nothing_changes(entered):
        with pytest.raises(RecordLocked):
            stage.save()
        with pytest.raises(RecordLocked):
            model.objects.get(project=entered).delete()


def test_it_refuses_a_model_save_of_evidence(clerk, entered):
    evidence = an_evidence(entered)

    with nothing_changes(entered):
        evidence.description = "改过的说明"
        with pytest.raises(RecordLocked):
            evidence.save()
        evidence.refresh_from_db()
        evidence.archived_at = timezone.now()
        with pytest.raises(RecordLocked):
            evidence.save(update_fields=["archived_at"])
        with pytest.raises(RecordLocked):
            an_evidence(entered).delete()
        extra = Evidence(
            project=entered,
            stage="permit",
            file="evidence/extra",
            original_name="补充.pdf",
            content_type="application/pdf",
            size=len(PDF_BYTES),
            sha256="0" * 64,
            uploaded_by=clerk,
        )
        with pytest.raises(RecordLocked):
            extra.save()


# ---------------------------------------------------------------- the database itself (PostgreSQL triggers)


def refused_by_the_database(statement):
    with pytest.raises(DatabaseError, match="locked|never deleted"), transaction.atomic():
        statement()


@on_postgresql
@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "改名后的工程"),
        ("address", "重庆市某处"),
        ("total_area", 1),
        ("enterprise_id", None),
        ("kind", "design"),
    ],
)
def test_the_database_refuses_a_queryset_update_of_the_project(clerk, entered, field, value):
    if field == "enterprise_id":
        value = make_enterprise_user(username="other-clerk").membership.enterprise_id

    with nothing_changes(entered):
        refused_by_the_database(lambda: Project.objects.filter(pk=entered.pk).update(**{field: value}))


@on_postgresql
@pytest.mark.parametrize("stage_code", STAGE_ORDER)
def test_the_database_refuses_a_queryset_update_or_delete_of_every_stage(entered, stage_code):
    model = STAGE_MODELS[stage_code]
    rows = model.objects.filter(project=entered)

    with nothing_changes(entered):
        refused_by_the_database(lambda: rows.update(**{model.document_field: "改过的编号"}))
        refused_by_the_database(lambda: rows.delete())  # a queryset delete skips Stage.delete()


@on_postgresql
@pytest.mark.parametrize("stage_code", STAGE_ORDER)
def test_the_database_refuses_a_stage_row_copied_in_for_a_locked_record(entered, stage_code):
    """The import's batches write with COPY (backfill_portal/bulk_copy.py): the trigger guards a copied row too."""
    model = STAGE_MODELS[stage_code]
    stage = model.objects.get(project=entered)
    fields = {f.attname: getattr(stage, f.attname) for f in model._meta.concrete_fields if not f.primary_key}

    with nothing_changes(entered):
        refused_by_the_database(lambda: copy_new_rows(model, [model(**fields)]))


@on_postgresql
def test_the_database_refuses_bulk_writes_to_evidence(clerk, entered):
    rows = Evidence.objects.filter(project=entered)
    copy = Evidence(
        **{f.attname: getattr(an_evidence(entered), f.attname) for f in Evidence._meta.concrete_fields}
    )
    copy.pk = None

    with nothing_changes(entered):
        refused_by_the_database(lambda: rows.update(archived_at=timezone.now(), archive_reason="删除"))
        refused_by_the_database(lambda: rows.delete())  # skips Evidence.delete()
        refused_by_the_database(lambda: Evidence.objects.bulk_create([copy]))


@on_postgresql
def test_the_database_refuses_raw_sql(entered):
    statements = [
        ("UPDATE projects_project SET name = %s WHERE id = %s", ["改名后的工程", entered.pk]),
        (
            "UPDATE projects_permitstage SET survey_enterprise_name = %s WHERE project_id = %s",
            ["另一家", entered.pk],
        ),
        ("DELETE FROM projects_evidence WHERE project_id = %s", [entered.pk]),
        ("DELETE FROM projects_permitstage WHERE project_id = %s", [entered.pk]),
        ("DELETE FROM projects_project WHERE id = %s", [entered.pk]),
    ]

    def run(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    with nothing_changes(entered):
        for sql, params in statements:
            refused_by_the_database(lambda: run(sql, params))  # noqa: B023 (called at once)


# ---------------------------------------------------------------- the refusals are not a blanket ban


def test_a_record_in_the_library_still_moves_into_a_correction_notice(entered):
    """The lock is on content, not on the lifecycle: the correction path (the city's) moves the state."""
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=entered.pk)
        project.start_correction_notice()
        project.save()
    assert Project.objects.get(pk=entered.pk).status == Status.IN_NOTICE


def test_a_permission_refusal_comes_before_the_lock_for_another_enterprise(entered):
    other = make_enterprise_user(username="other-clerk")
    with nothing_changes(entered), pytest.raises(PermissionDenied):
        project_services.update_project(actor=Actor(user=other), project=entered, data={"name": "改名"})
