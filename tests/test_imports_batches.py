"""New projects of an import written a batch at a time (docs/import.md, "Batches"): one transaction and one
statement per table for the batch (a COPY: backfill_portal/bulk_copy.py), the audit chains begun together (audit.record_new_chains); a batch refused is
written again project by project, so that each project is still saved or refused on its own."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from imports import layout, reading, services
from projects import audit
from projects.audit import Actor
from projects.models import AuditChainHead, AuditEvent, Project, RegistrationStage
from tests.builders import make_enterprise_user, make_project
from tests.import_builders import fill, project_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def importer(authorities, open_windows):
    return make_enterprise_user(username="batch-importer")


def queries_of_import(user, rows) -> tuple:
    job = services.start_import(actor=Actor(user=user), workbook=SimpleUploadedFile("批量.xlsx", fill(rows)))
    with CaptureQueriesContext(connection) as captured:
        job = services.run_job(job.pk)
    return job, len(captured.captured_queries)


def assert_chains_of(enterprise, user):
    assert audit.verify_chain().intact
    for project in Project.objects.filter(enterprise=enterprise):
        events = list(AuditEvent.objects.filter(project=project).order_by("id"))
        assert [e.action for e in events] == ["project.create"] + ["stage.create"] * 6
        assert {e.chain for e in events} == {project.pk}
        assert events[0].previous_hash == ""
        assert all(e.previous_hash == p.hash for p, e in zip(events, events[1:], strict=False))
        assert AuditChainHead.objects.get(chain=project.pk).last_hash == events[-1].hash
        assert all(e.actor == user and e.organisation == enterprise.name for e in events)
        assert events[0].changes["name"] == [None, project.name]
        assert events[1].object_id == str(project.registration.pk)


def test_new_projects_cost_a_number_of_queries_that_does_not_grow_with_them(importer, monkeypatch):
    # The progress is written every PROGRESS_SECONDS: on a slow machine more often within one import than
    # within another. Once at the end here, so that the count is the import's own.
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 3600)
    enterprise = importer.membership.enterprise
    few, few_queries = queries_of_import(importer, [project_row(enterprise) for _ in range(2)])
    many, many_queries = queries_of_import(importer, [project_row(enterprise) for _ in range(12)])
    assert (few.created_count, many.created_count) == (2, 12), many.results
    # Row by row, each new project cost 12 statements (BEGIN, 8 INSERTs, the head's lock and UPDATE, COMMIT).
    assert many_queries <= few_queries + 2, (few_queries, many_queries)
    assert [r["row"] for r in many.results] == list(range(layout.FIRST_DATA_ROW, layout.FIRST_DATA_ROW + 12))
    assert len({r["project_number"] for r in few.results + many.results}) == 14
    assert_chains_of(enterprise, importer)


def test_a_refused_row_in_a_batch_leaves_the_others_written(importer):
    enterprise = importer.membership.enterprise
    rows = [project_row(enterprise) for _ in range(5)]
    rows[2][("tendering", "award_amount")] = "abc"  # refused by the check: never in the batch
    job, _queries = queries_of_import(importer, rows)
    assert (job.created_count, job.refused_count) == (4, 1)
    assert [r["outcome"] for r in job.results] == ["created", "created", "refused", "created", "created"]
    assert Project.objects.filter(enterprise=enterprise).count() == 4
    assert_chains_of(enterprise, importer)


def test_a_batch_refused_by_the_database_is_written_project_by_project(importer, authorities):
    """A document number another enterprise takes between the check and the write: the batch's INSERT fails, the
    whole batch rolls back, and each project is written on its own: the one whose number was taken is refused on
    its row and absent, the others are saved, numbered from where the batch began, and audited."""
    enterprise = importer.membership.enterprise
    rows = [project_row(enterprise) for _ in range(5)]
    taken = rows[2][("registration", "registration_number")]
    sheet = reading.read_workbook(fill(rows), "批量.xlsx")
    importer_ = services.RowImporter(
        actor=Actor(user=importer, ip_address="192.0.2.7"), enterprise=enterprise, sheet=sheet
    )
    parsed = importer_.prepare(sheet.rows)
    other = make_enterprise_user(username="other-writer")
    theirs = make_project(
        other.membership.enterprise,
        other,
        authorities["500103"],
        stage_data={"registration": {"registration_number": taken}},
    )
    finished = []
    for row, values, problems in parsed:
        finished += importer_.import_row(row, values, problems)
    assert finished == []  # queued: a batch is written when full or at the end
    finished = importer_.flush()
    outcomes = [outcome for _row, outcome, _problems, _project in finished]
    assert outcomes == ["created", "created", "refused", "created", "created"]
    [problem] = [p for p in finished[2][2] if p.severity == "error"]
    assert "已被其他项目使用" in problem.message
    assert problem.column == sheet.index_of("registration", "registration_number")
    mine = Project.objects.filter(enterprise=enterprise).order_by("project_number")
    assert mine.count() == 4
    assert not RegistrationStage.objects.filter(
        registration_number=taken, project__enterprise=enterprise
    ).exists()
    # The batch's numbers, rolled back with it, issued again (read afresh): the first follows the other writer's.
    assert int(mine[0].project_number[-4:]) == int(theirs.project_number[-4:]) + 1
    assert_chains_of(enterprise, importer)
    assert set(
        AuditEvent.objects.filter(project__enterprise=enterprise).values_list("ip_address", flat=True)
    ) == {"192.0.2.7"}


def test_a_later_row_naming_a_queued_project_finds_it_written(importer):
    """Two rows with the same document number: the second finds the first's project as row by row (the batch so
    far is written first), and is refused as the same project, not written twice."""
    enterprise = importer.membership.enterprise
    first = project_row(enterprise)
    second = project_row(enterprise)
    second[("registration", "registration_number")] = first[("registration", "registration_number")]
    job, _queries = queries_of_import(importer, [first, project_row(enterprise), second])
    assert [r["outcome"] for r in job.results] == ["created", "created", "refused"]
    assert "与第6行是同一个项目" in job.results[2]["problems"][0]["message"]
    assert Project.objects.filter(enterprise=enterprise).count() == 2


def test_new_chains_begin_together_or_not_at_all(importer, authorities):
    enterprise, authority = importer.membership.enterprise, authorities["500103"]
    actor = Actor(user=importer)
    begun = make_project(enterprise, importer, authority, stages=False, evidence=False)
    audit.record(actor, "project.note", begun, project=begun)
    fresh = [make_project(enterprise, importer, authority, stages=False, evidence=False) for _ in range(2)]
    with transaction.atomic():
        audit.record_new_chains(
            actor,
            [
                [audit.Entry("project.create", p, project=p), audit.Entry("project.note", p, project=p)]
                for p in fresh
            ],
        )
    assert audit.verify_chain().intact
    for p in fresh:
        assert [e.action for e in AuditEvent.objects.filter(chain=p.pk)] == ["project.create", "project.note"]
    # A chain that has begun already: refused whole, nothing of the batch written.
    late = make_project(enterprise, importer, authority, stages=False, evidence=False)
    before = AuditEvent.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        audit.record_new_chains(
            actor,
            [
                [audit.Entry("project.note", late, project=late)],
                [audit.Entry("project.note", begun, project=begun)],
            ],
        )
    assert AuditEvent.objects.count() == before
    assert not AuditChainHead.objects.filter(chain=late.pk).exists()
    assert audit.verify_chain().intact
