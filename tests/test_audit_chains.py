"""The audit chains (docs/security.md, "The audit chains"): a chain per project and a few shards for events of no
project, so writers of different projects do not wait for one another; anchors on the global chain hash the heads,
so a project chain's tail deleted with its head wound back is found too. Tampering is done with raw SQL as in
tests/test_audit.py."""

import threading
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction

from projects import audit
from projects.audit import Actor
from projects.models import AuditChainHead, AuditEvent
from tests.builders import make_enterprise_user, make_project
from tests.test_audit import POSTGRES, TABLE, behind_the_back

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_projects(authorities, open_windows):
    clerk = make_enterprise_user(username="clerk-chains")
    enterprise, authority = clerk.membership.enterprise, authorities["500103"]
    return clerk, make_project(enterprise, clerk, authority), make_project(enterprise, clerk, authority)


def note(actor, project, n):
    return audit.record(actor, "project.note", project, project=project, message=f"第{n}条")


@pytest.fixture
def chains(two_projects):
    """Three events on each project's chain and two on the clerk's shard, interleaved."""
    clerk, a, b = two_projects
    actor = Actor(clerk, "192.0.2.10")
    for n in range(3):
        note(actor, a, n)
        note(actor, b, n)
        if n < 2:
            audit.record(actor, "account.note", None, message=f"无项目第{n}条")
    return {"a": a, "b": b, "actor": actor}


def chain(project):
    return list(AuditEvent.objects.filter(chain=project.pk).order_by("id"))


def test_each_project_has_its_own_chain_and_events_of_no_project_a_shard(chains):
    a, b = chains["a"], chains["b"]
    on_a = chain(a)
    assert [event.project_id for event in on_a] == [a.pk] * len(on_a) and len(on_a) >= 3
    assert on_a[0].previous_hash == "" and all(
        e.previous_hash == p.hash for p, e in zip(on_a, on_a[1:], strict=False)
    )
    shard = set(AuditEvent.objects.filter(action="account.note").values_list("chain", flat=True))
    assert shard == {audit.shard_of(chains["actor"].user)} and shard.pop() < 0
    assert AuditChainHead.objects.get(chain=b.pk).last_hash == chain(b)[-1].hash
    assert b'"chain": %d' % a.pk in on_a[0].canonical_payload()  # the chain is hashed: moving an event shows
    assert audit.verify_chain().intact


def test_events_on_the_global_chain_hash_as_before_the_split(chains):
    """The events made before the chains were split are on chain 0 (the migration's default) and their payload
    has no chain: the existing trail keeps its hashes."""
    event = audit.anchor()
    assert event.chain == audit.GLOBAL_CHAIN and b'"chain"' not in event.canonical_payload()


def test_it_finds_a_changed_event_on_a_project_chain(chains):
    target = chain(chains["a"])[1]
    behind_the_back(f"UPDATE {TABLE} SET message = %s WHERE id = %s", ["改过", target.pk])

    report = audit.verify_chain()

    assert report.broken.pk == target.pk and "被修改" in report.reason


def test_it_finds_an_event_moved_to_another_chain(chains):
    target = chain(chains["a"])[-1]
    behind_the_back(f"UPDATE {TABLE} SET chain = %s WHERE id = %s", [chains["b"].pk, target.pk])

    report = audit.verify_chain()

    # A's chain, walked first, now ends short of its head; B's would show the stranger.
    assert not report.intact and report.broken.pk == chain(chains["a"])[-1].pk


def test_it_finds_a_deleted_event_on_a_project_chain(chains):
    before, gone, after = chain(chains["b"])[-3:]
    behind_the_back(f"DELETE FROM {TABLE} WHERE id = %s", [gone.pk])

    report = audit.verify_chain()

    assert report.broken.pk == after.pk and f"上一条记录 #{before.pk} 的哈希不符" in report.reason


def test_it_finds_an_inserted_event_even_with_a_correct_hash(chains):
    """A forged event chained to a real one, with its own hash right: the next event still names the real one."""
    real, following = chain(chains["a"])[-2:]
    forged = AuditEvent(
        actor=real.actor, actor_username=real.actor_username, action="project.note", object_type="project",
        object_id=str(chains["a"].pk), project=chains["a"], message="补写的记录", chain=real.chain,
        previous_hash=real.hash,
    )  # fmt: skip
    forged.hash = forged.compute_hash()
    columns = (
        "occurred_at, actor_id, actor_username, organisation, action, object_type, object_id, project_id, "
    )
    behind_the_back(
        f"INSERT INTO {TABLE} ({columns} changes, message, chain, previous_hash, hash) "
        "VALUES (%s, %s, %s, '', %s, %s, %s, %s, '{}', %s, %s, %s, %s)",
        [forged.occurred_at, forged.actor_id, forged.actor_username, forged.action, forged.object_type,
         forged.object_id, forged.project_id, forged.message, forged.chain, forged.previous_hash, forged.hash],
    )  # fmt: skip

    report = audit.verify_chain()

    # The forged event has the newest id, so it follows `following` on the walk, which it does not name.
    assert not report.intact and report.broken.hash == forged.hash and f"#{following.pk}" in report.reason


def test_it_finds_a_project_chains_tail_dropped_with_its_head_wound_back_once_anchored(chains):
    a = chains["a"]
    audit.anchor()  # beat's anchor: the heads as they are, into the global chain
    kept = chain(a)[-3]
    behind_the_back(f"DELETE FROM {TABLE} WHERE chain = %s AND id > %s", [a.pk, kept.pk])
    AuditChainHead.objects.filter(chain=a.pk).update(
        last_hash=kept.hash
    )  # the head wound back: a chain that ends

    report = audit.verify_chain()

    assert not report.intact
    assert (
        report.broken.action == audit.ANCHOR_ACTION
        and f"审计链 {a.pk} 的链头哈希已不在该链上" in report.reason
    )


def test_it_finds_a_whole_project_chain_deleted_with_its_head(chains):
    b = chains["b"]
    audit.anchor()
    behind_the_back(f"DELETE FROM {TABLE} WHERE chain = %s", [b.pk])
    AuditChainHead.objects.filter(chain=b.pk).delete()

    report = audit.verify_chain()

    assert not report.intact and report.broken.action == audit.ANCHOR_ACTION


def test_it_finds_a_project_chains_tail_dropped_without_touching_the_head(chains):
    kept, gone = chain(chains["b"])[-2:]
    behind_the_back(f"DELETE FROM {TABLE} WHERE id = %s", [gone.pk])

    report = audit.verify_chain()

    assert report.broken.pk == kept.pk and "其后的最新记录被删除" in report.reason


def test_an_anchor_takes_only_the_heads_that_moved(chains):
    first = audit.anchor()
    assert set(first.changes["heads"]) == {
        str(c) for c in AuditChainHead.objects.exclude(chain=0).values_list("chain", flat=True)
    }
    assert audit.anchor() is None  # nothing moved
    note(chains["actor"], chains["a"], 9)

    second = audit.anchor()

    assert second.changes["heads"] == {str(chains["a"].pk): chain(chains["a"])[-1].hash}
    assert second.previous_hash == first.hash and audit.verify_chain().intact


def test_beat_anchors_the_chains_every_minute():
    from backfill_portal import settings as production_settings
    from projects import tasks

    entry = production_settings.CELERY_BEAT_SCHEDULE["anchor-audit-chains"]
    assert entry["task"] == tasks.anchor_audit_chains.name and entry["schedule"] == 60


postgres_only = pytest.mark.skipif(not POSTGRES, reason="row locks across connections are PostgreSQL's")


@contextmanager
def head_held(actor, project):
    """Another connection appends an event of `project` and keeps its transaction open (its chain's head locked)
    until the block ends."""
    holding, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                note(actor, project, 100)
                holding.set()
                release.wait(timeout=20)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    assert holding.wait(timeout=10)
    try:
        yield
    finally:
        release.set()
        thread.join(timeout=10)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_writer_of_another_project_does_not_wait_for_an_open_transaction(two_projects):
    """The point of the split: project A's writer holds its head until its commit; B's writer commits meanwhile,
    and a second writer of A waits for the first."""
    clerk, a, b = two_projects
    actor = Actor(clerk, "192.0.2.10")
    done = {}

    def writer(project, key):
        try:
            note(actor, project, 200)
            done[key] = True
        finally:
            connections.close_all()

    same = threading.Thread(target=writer, args=(a, "a"))
    with head_held(actor, a):
        other = threading.Thread(target=writer, args=(b, "b"))
        other.start()
        other.join(timeout=10)
        same.start()
        same.join(timeout=1)
        assert done == {
            "b": True
        }  # B committed while A's transaction was open; A's second writer still waits
    same.join(timeout=10)
    assert done == {"b": True, "a": True}
    assert audit.verify_chain().intact


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_of_shared_and_separate_chains_leave_chains_that_verify(two_projects):
    clerk, a, b = two_projects
    others = [make_enterprise_user(username=f"clerk-chains-{n}") for n in range(3)]
    errors = []

    def work(user, n):
        actor = Actor(user, "192.0.2.10")
        try:
            for i in range(15):
                with transaction.atomic():
                    note(actor, (a, b)[(n + i) % 2], i)
                    if i % 3 == 0:
                        audit.record(actor, "account.note", None, message=f"{n}-{i}")
                    if i % 5 == 0:
                        audit.record_many(
                            actor,
                            [
                                audit.Entry("project.note", b, project=b),
                                audit.Entry("project.note", a, project=a),
                            ],
                        )
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(u, n)) for n, u in enumerate([clerk, *others] * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    anchors = threading.Thread(target=lambda: (audit.anchor(), connections.close_all()))
    anchors.start()
    anchors.join(timeout=20)

    assert errors == []
    report = audit.verify_chain()
    assert report.intact, report.describe()
    assert AuditEvent.objects.filter(action="project.note").count() >= 8 * (15 + 3 * 2)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(DISTINCT chain) FROM {TABLE}")
        assert cursor.fetchone()[0] >= 4  # two projects, shards, the global chain


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_transaction_holding_a_head_does_not_wait_for_another_but_appends_to_its_own(two_projects):
    """The rule that keeps the chains free of deadlocks: a transaction waits for a head only while it holds none.
    Holding A's head, it finds B's taken by another transaction and appends B's event to A's chain at once; with
    B's head free it takes it."""
    clerk, a, b = two_projects
    actor = Actor(clerk, "192.0.2.10")
    note(actor, b, 0)  # B's head exists
    with head_held(actor, b), transaction.atomic():
        on_a = note(actor, a, 0)
        on_b = note(actor, b, 2)  # B's head is held: no wait, onto A's chain
    with transaction.atomic():
        note(actor, a, 1)
        free_b = note(actor, b, 3)  # B's head is free now: its own chain

    assert (on_a.chain, on_b.chain, free_b.chain) == (a.pk, a.pk, b.pk)
    assert on_b.project_id == b.pk and on_b.previous_hash == on_a.hash
    assert audit.verify_chain().intact
