"""The correction request's status machine (corrections/0002) and its evidence as a stored file (corrections/0003)
keep every row: a database with requests and evidence written at corrections/0001 migrates forward, and the models
read the same rows, every evidence file active. Runs on SQLite (which rebuilds the tables) and PostgreSQL alike."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from corrections.models import CorrectionEvidence, CorrectionRequest, CorrectionStatus
from publicity.models import LibraryEntry
from tests.builders import enter_library, make_enterprise_user, make_project

BEFORE = [("corrections", "0001_initial")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def head():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_the_status_machine_and_the_stored_file_migrations_keep_every_row(yuzhong):
    clerk = make_enterprise_user(username="migrating-clerk")
    records = [
        enter_library(
            make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, name=f"迁移{n}")
        )
        for n in range(2)
    ]
    try:
        old = migrate(BEFORE)
        written = populate(old, clerk, records)
        migrate(head())

        requests = dict(CorrectionRequest.objects.values_list("reference", "status"))
        assert requests == {"GZMIG000001": CorrectionStatus.FILED, "GZMIG000002": CorrectionStatus.WITHDRAWN}
        evidence = CorrectionEvidence.objects.order_by("id")
        assert [(e.request.reference, e.original_name, e.sha256) for e in evidence] == written
        assert all(e.is_active and e.archived_by_id is None and e.archive_reason == "" for e in evidence)
        assert evidence[0].file.name == "corrections/GZMIG000001/abc"
    finally:
        migrate(head())  # the tests after this one need the database at its head, whatever happened here


def populate(apps, clerk, records):
    """Two requests (one open, one ended) with evidence, written by the models as corrections/0001 has them."""
    Request = apps.get_model("corrections", "CorrectionRequest")
    Evidence = apps.get_model("corrections", "CorrectionEvidence")
    written = []
    for n, (record, status) in enumerate(zip(records, ["filed", "withdrawn"], strict=True), start=1):
        request = Request.objects.create(
            reference=f"GZMIG00000{n}",
            project_id=record.pk,
            base_snapshot_id=LibraryEntry.objects.get(project=record).snapshot_id,
            statement="更正说明。",
            status=status,
            filed_by_id=clerk.pk,
        )
        for name in ("说明.pdf", "照片.png"):
            Evidence.objects.create(
                request=request,
                file=f"corrections/{request.reference}/{'abc' if name.endswith('pdf') else 'def'}",
                original_name=name,
                content_type="application/pdf" if name.endswith("pdf") else "image/png",
                size=4,
                sha256=str(n) * 64,
                uploaded_by_id=clerk.pk,
            )
            written.append((request.reference, name, str(n) * 64))
    return written
