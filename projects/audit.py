"""The audit trail every app writes to (谁录入，谁负责): record() is the only way an AuditEvent is made."""

import datetime
import ipaddress
import random
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.http import Http404
from django.utils.ipv6 import clean_ipv6_address

from backfill_portal.bulk_copy import copy_new_rows

from . import permissions
from .client_address import client_ip
from .models import AuditChainHead, AuditEvent, Membership, RecordLocked


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where. Views build it from the request; services take it as an argument."""

    user: object
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        # X-Forwarded-For only through the trusted proxies (settings.TRUSTED_PROXIES): anyone could forge it.
        return cls(user=request.user, ip_address=client_ip(request))

    @property
    def membership(self) -> Membership | None:
        return permissions.membership_of(self.user)

    @property
    def organisation_name(self) -> str:
        name = permissions.organisation_name(self.user)
        if name:
            return name
        return "系统管理员" if getattr(self.user, "is_superuser", False) else ""


# A field's value already as JSON has it: most of a record's (its texts, numbers, flags and blanks), returned before
# the checks below.
_JSON_READY = frozenset({str, int, bool, type(None)})


def serialise(value):
    if type(value) in _JSON_READY:
        return value
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, models.fields.files.FieldFile):
        return value.name
    return value


def field_values(instance, exclude=("id", "updated_at", "updated_by", "created_at")) -> dict:
    """The concrete field values of an instance, as JSON-ready data, keyed by field name."""
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude:
            continue
        values[field.name] = serialise(getattr(instance, field.attname))
    return values


def diff(before: dict, after: dict) -> dict:
    """{field: [before, after]} for every field whose value changed."""
    if not before:  # a creation: the same, without two look-ups a field (the bulk import's 6,650 events)
        return {name: [None, value] for name, value in after.items() if value is not None}
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def stored_ip(value: str | None) -> str | None:
    """An IP address as the database will store it, so the hash made before the insert still verifies after a
    reload: Django's field cleaning (e.g. "2001:0DB8::0001" is stored as "2001:db8::1"; hashing the raw text
    would make an honest event read as tampered with). A zone id ("%eth0") is no part of an address; a value
    that is not an address at all is not stored (None)."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip().split("%")[0])
    except ValueError:
        return None
    return str(address) if address.version == 4 else clean_ipv6_address(str(address))


def record(actor: Actor | None, action: str, obj, *, project=None, changes=None, message="") -> AuditEvent:
    """Append one event to the chain. Runs inside the caller's transaction, so it commits or rolls back
    with the change it describes."""
    return record_many(actor, [Entry(action, obj, project=project, changes=changes, message=message)])[0]


@dataclass(frozen=True)
class Entry:
    """One event for record_many(): what record() takes after the actor."""

    action: str
    obj: object
    project: object = None
    changes: dict | None = None
    message: str = ""


# The chains (docs/security.md, "The audit chains"): a project's events on the project's own chain (its id), events
# of no project on one of AUDIT_CHAIN_SHARDS shards (-1, -2, …), and the global chain (0), which holds the events
# made before the chains were split and, since, the anchors: each an event hashing the heads of the chains that
# moved since the anchor before (anchor(): beat, and every check).
GLOBAL_CHAIN = 0
ANCHOR_ACTION = "audit.anchor"
ANCHOR_BATCH = 5000  # heads per anchor event


def shard_of(user) -> int:
    """The shard for events of no project: the user's own (so one user's events stay in order on one chain), a
    random one for the anonymous."""
    shards = max(1, getattr(settings, "AUDIT_CHAIN_SHARDS", 8))
    key = user.pk if user is not None else random.randrange(shards)
    return -1 - key % shards


class _HeadHeld:
    """The mark of a chain head locked by the current transaction: an on_commit callback that does nothing.
    Django drops it when the transaction commits or rolls back, and when the savepoint it was registered in
    rolls back: exactly when the database lets go of the head's lock."""

    def __init__(self, chain: int):
        self.chain = chain

    def __call__(self):
        pass


def held_chains() -> list[int]:
    """The chains whose heads the current transaction holds, the first taken first."""
    connection = transaction.get_connection()
    marks = getattr(connection, "audit_heads_held", [])
    if not marks:
        return []
    registered = {id(func) for _sids, func, _robust in connection.run_on_commit}
    marks[:] = [mark for mark in marks if id(mark) in registered]
    return [mark.chain for mark in marks]


def wanted_chain(entry: "Entry", user) -> int:
    if entry.action == ANCHOR_ACTION:
        return GLOBAL_CHAIN
    if entry.project is not None:
        return entry.project.pk
    return shard_of(user)


def lock_chain(wanted: int) -> AuditChainHead:
    """Lock the head of the chain the events go on until the transaction ends (docs/security.md, "The audit
    chains"): the wanted chain (its project's, the user's shard, or the global chain for an anchor), waited for if
    it is the transaction's first head. A transaction that already holds a head does not wait for another: it
    takes the wanted head only if it is free at once (NOWAIT), else it appends to the first head it holds. So a
    transaction waits for a head only while it holds none, and no two writers can each hold a head the other
    waits for (no deadlock), whatever order their events come in."""
    held = held_chains()
    if wanted == GLOBAL_CHAIN or not held or wanted in held:
        return _lock(wanted, nowait=False)
    try:
        with transaction.atomic():  # a savepoint: a refused NOWAIT must not abort the caller's transaction
            return _lock(wanted, nowait=True)
    except DatabaseError:
        return _lock(held[0], nowait=False)  # already ours: no wait


def _lock(chain: int, *, nowait: bool) -> AuditChainHead:
    heads = AuditChainHead.objects.select_for_update(nowait=nowait)
    head = heads.filter(chain=chain).first()
    if head is None:
        # A new chain's head (a project's first event, made in the transaction that creates it): inserted unless a
        # concurrent writer just did, then ours waits for its commit.
        AuditChainHead.objects.bulk_create([AuditChainHead(chain=chain)], ignore_conflicts=True)
        head = heads.get(chain=chain)
    if chain != GLOBAL_CHAIN and chain not in held_chains():
        connection = transaction.get_connection()
        mark = _HeadHeld(chain)
        transaction.on_commit(mark)
        connection.audit_heads_held = [*getattr(connection, "audit_heads_held", []), mark]
    return head


def _who(actor: Actor | None) -> tuple[object, dict]:
    """(the user, or None for the anonymous and the system; the event fields saying who acted and from where)."""
    user = actor.user if actor and actor.user.is_authenticated else None
    return user, {
        "actor": user,
        "actor_username": user.get_username() if user else "",
        "organisation": actor.organisation_name if actor and user else "",
        "ip_address": stored_ip(actor.ip_address) if actor else None,
    }


def _chained(who: dict, entries: list[Entry], chain: int, previous_hash: str) -> list[AuditEvent]:
    """The entries as unsaved events on `chain`, each hashed and chained to the one before, the first to
    `previous_hash` (the chain's head)."""
    events = []
    for entry in entries:
        obj = entry.obj
        event = AuditEvent(
            **who,
            action=entry.action,
            object_type=obj._meta.model_name if obj is not None else "",
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            project=entry.project,
            changes=entry.changes or {},
            message=entry.message[:500],
            chain=chain,
            previous_hash=previous_hash,
        )
        # Rounded to microseconds as the database stores them, so the hash verifies after a reload.
        event.hash = event.compute_hash()
        previous_hash = event.hash
        events.append(event)
    return events


def record_many(actor: Actor | None, entries: list[Entry]) -> list[AuditEvent]:
    """Append several events of one actor to one chain (lock_chain(): the first entry's project's, the user's
    shard for an event of no project, or one this transaction already holds), in order, under the lock of the
    chain's head held until the caller's transaction commits: the same events, each chained to the one before, as
    that many record() calls, in one INSERT. Writers of other chains are not held up. Runs inside the caller's
    transaction."""
    user, who = _who(actor)
    # No savepoint of its own: inside the caller's transaction an error here rolls back the change it describes.
    with transaction.atomic(savepoint=False):
        head = lock_chain(wanted_chain(entries[0], user))
        events = _chained(who, entries, head.chain, head.last_hash)
        if len(events) == 1:
            events[0].save()
        else:
            # One INSERT: the ids come from the sequence in the list's order, and verify_chain walks each chain in
            # id order.
            AuditEvent.objects.bulk_create(events)
        head.last_hash = events[-1].hash
        head.save(update_fields=["last_hash"])
    return events


def record_new_chains(actor: Actor | None, chains: list[list[Entry]]) -> list[AuditEvent]:
    """Begin many projects' chains at once (the bulk import writes a batch of new projects this way: docs/import.md,
    "Batches"): each list holds the events of one project created in the caller's transaction, all naming that
    project, which has no event yet. Each list becomes its project's chain, as record_many() would make it (the
    first event chained to nothing, each next to the one before), and every head is inserted with its last hash:
    an INSERT of the heads, a query for the events' ids and a COPY of the events for the whole batch, instead of a
    lock, an INSERT and an UPDATE a project.

    No head is locked or waited for: a new project's chain has no head yet, and nobody else can name the project
    before the caller's transaction commits. A head that exists all the same (a chain begun outside record_many,
    i.e. something is wrong) makes the head's INSERT fail on its unique chain, and the caller's transaction rolls
    back with everything it wrote (the import then writes each project on its own, through record_many)."""
    _user, who = _who(actor)
    events, heads = [], []
    for entries in chains:
        project = entries[0].project
        if project is None or project.pk is None or any(e.project is not project for e in entries):
            raise ValueError("record_new_chains: every event of a chain names its one, saved project")
        chained = _chained(who, entries, project.pk, "")
        events += chained
        heads.append(AuditChainHead(chain=project.pk, last_hash=chained[-1].hash))
    with transaction.atomic(savepoint=False):
        # The heads first: were one to exist, nothing more is written before the transaction rolls back.
        AuditChainHead.objects.bulk_create(heads)
        # One COPY (backfill_portal/bulk_copy.py): ids from the sequence in the list's order, so each chain's id
        # order is its order.
        copy_new_rows(AuditEvent, events)
    return events


def anchor() -> AuditEvent | None:
    """Hash the heads of the chains that moved since they were last anchored into the global chain: one
    `audit.anchor` event (per ANCHOR_BATCH heads) whose changes are {chain: its last hash}. verify_chain then
    requires every anchored hash to be still on its chain, so a chain's tail cut off and its head wound back to
    hide it, or a project's whole chain deleted head and all, is found once an anchor has seen it. Beat runs it
    every AUDIT_ANCHOR_SECONDS, and every check of the chain runs it first.

    A head being written now is skipped (SKIP LOCKED: no writer waits for the anchor), and anchored next time."""
    made = None
    while True:
        with transaction.atomic():
            heads = list(
                AuditChainHead.objects.select_for_update(skip_locked=True)
                .exclude(last_hash=F("anchored_hash"))
                .exclude(chain=GLOBAL_CHAIN)
                .exclude(last_hash="")
                .order_by("chain")[:ANCHOR_BATCH]
            )
            if not heads:
                return made
            made = record(
                None,
                ANCHOR_ACTION,
                None,
                changes={"heads": {str(head.chain): head.last_hash for head in heads}},
                message=f"锚定{len(heads)}条审计链的链头",
            )
            for head in heads:
                head.anchored_hash = head.last_hash
            AuditChainHead.objects.bulk_update(heads, ["anchored_hash"])
        if len(heads) < ANCHOR_BATCH:
            return made


@dataclass(frozen=True)
class ChainReport:
    """What verify_chain() found: how many events verified, and where the chains first break (if they do)."""

    checked: int
    # The first event that does not verify; with a cut tail, the last one kept; with an anchored hash gone, the
    # anchor.
    broken: AuditEvent | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return not self.reason

    def describe(self) -> str:
        if self.intact:
            return f"审计链完整：共{self.checked}条记录"
        if self.broken is None:
            return f"审计链断裂：{self.reason}"
        return f"审计链断裂，第一条有问题的记录：{describe_event(self.broken)}。{self.reason}"


def describe_event(event: AuditEvent) -> str:
    """#id, time (Beijing), actor and action: enough to find the event and ask who was there."""
    from django.utils import timezone

    when = timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
    who = event.actor_username or "匿名/系统"
    return f"#{event.pk}（时间 {when}，操作人 {who}，操作 {event.action}）"


def verify_chain() -> ChainReport:
    """Walk every chain in id order (record_many() appends to a chain under its head's lock, so a chain's id order
    is its order) and stop at the first event that does not verify:

    - its content no longer gives its hash: the event was altered (moving it to another chain included: the
      chain is hashed);
    - its previous_hash is not the hash of the event before it on its chain: an event in between was deleted or
      inserted, or the one before was altered and its hash recomputed to hide it;
    - a chain never reaches the hash its head held when the walk began: the newest events were deleted; a chain
      with events has no head, or a head names a hash while its chain has no event left;
    - an anchor on the global chain names a hash that is no longer on the chain it names: that chain's tail was
      cut and its head wound back to hide it, or the whole chain was deleted with its head.

    The heads are read before the walk, so events appended while it runs (the portal stays open) extend a chain
    past that hash and are verified too, instead of passing for a deleted tail; a chain begun meanwhile is
    checked against its head read after the walk.

    Not detectable from inside the database: the events appended to a chain since its last anchor, deleted with
    the head wound back; and a rewrite of the global chain from some anchor on, head included. Anchors every
    AUDIT_ANCHOR_SECONDS bound the first; for the second keep a copy of the global head's hash elsewhere (e.g.
    print verify_audit's output to a log).
    """
    walk = _Walk(dict(AuditChainHead.objects.values_list("chain", "last_hash")))  # the heads before the walk
    try:
        walk.run()
    except _Broken as broken:
        return ChainReport(walk.checked, broken.event, broken.reason)
    return ChainReport(walk.checked)


class _Broken(Exception):
    def __init__(self, event, reason):
        self.event, self.reason = event, reason


class _Walk:
    """verify_chain()'s walk: the chains one after another, each in id order, then the anchors' hashes."""

    def __init__(self, heads: dict):
        self.heads = heads
        self.checked = 0
        self.seen = set()
        self.anchored = []  # (anchor event, chain, hash), looked up after the walk
        self.previous: AuditEvent | None = None
        self.reached = True

    def run(self):
        for event in AuditEvent.objects.order_by("chain", "id").iterator(chunk_size=2000):
            if self.previous is not None and event.chain != self.previous.chain:
                self.close(self.previous)
                self.previous = None
            if self.previous is None:
                self.seen.add(event.chain)
                self.reached = not self.heads.get(event.chain)  # an empty head is reached at once
            self.check(event)
            self.previous = event
            self.checked += 1
        if self.previous is not None:
            self.close(self.previous)
        self.check_emptied_chains()
        self.check_anchors()

    def check(self, event: AuditEvent):
        if event.compute_hash() != event.hash:
            raise _Broken(event, "其内容与哈希值不符：该记录在写入后被修改。")
        previous = self.previous
        if event.previous_hash != (previous.hash if previous is not None else ""):
            if previous is None:
                raise _Broken(
                    event, "它本应是链上的第一条记录，却指向一条不存在的前序记录：更早的记录被删除。"
                )
            raise _Broken(
                event,
                f"它记录的前一哈希与上一条记录 #{previous.pk} 的哈希不符："
                f"两者之间的记录被删除或插入，或 #{previous.pk} 被修改后重算了哈希。",
            )
        if event.chain == GLOBAL_CHAIN and event.action == ANCHOR_ACTION:
            heads = event.changes.get("heads", {})
            self.anchored.extend((event, int(chain), hash_) for chain, hash_ in heads.items())
        self.reached = self.reached or event.hash == self.heads.get(event.chain)

    def close(self, last: AuditEvent):
        """The end of a chain: its head must name a hash the walk reached."""
        chain = last.chain
        if chain not in self.heads:
            head = AuditChainHead.objects.filter(chain=chain).first()  # begun during the walk, or deleted
            if head is None:
                raise _Broken(last, "审计链头记录缺失：链头被删除。")
            if head.last_hash and not AuditEvent.objects.filter(chain=chain, hash=head.last_hash).exists():
                raise _Broken(
                    last, "这是现存的最后一条记录，但链头记录的最后哈希不在链上：其后的最新记录被删除。"
                )
            return
        if not self.reached:
            raise _Broken(
                last,
                "这是现存的最后一条记录，但链头记录的最后哈希不是它的：其后的最新记录被删除，"
                "或它本身被修改后重算了哈希。",
            )
        if (
            not self.heads[chain]
            and not AuditChainHead.objects.filter(chain=chain).exclude(last_hash="").exists()
        ):
            # Events exist, yet the head is still empty after the walk: nothing was appended meanwhile, it was erased.
            raise _Broken(last, "链头记录的最后哈希被清空：链头被篡改。")

    def check_emptied_chains(self):
        for chain, head_hash in self.heads.items():
            if head_hash and chain not in self.seen:
                if not self.checked:
                    raise _Broken(None, "审计记录为空，但链头记录着最后一条记录的哈希：全部记录被删除。")
                raise _Broken(
                    None,
                    f"审计链 {chain} 的链头记录着最后一条记录的哈希，但该链已没有任何记录：整条链被删除。",
                )

    def check_anchors(self):
        for start in range(0, len(self.anchored), 1000):
            batch = self.anchored[start : start + 1000]
            hashes = [hash_ for _event, _chain, hash_ in batch]
            found = dict(AuditEvent.objects.filter(hash__in=hashes).values_list("hash", "chain"))
            for anchor_event, chain, hash_ in batch:
                if found.get(hash_) != chain:
                    raise _Broken(
                        anchor_event,
                        f"该锚定记录所记审计链 {chain} 的链头哈希已不在该链上："
                        "该链的尾部被删除并回退了链头，或整条链连同链头被删除。",
                    )


# ---------------------------------------------------------------- refusals


# What a refusal is: a user who may not act (projects.permissions' ensure_ helpers), a record whose state does not
# allow the change (RecordLocked), an object asked for by id that the user may not see (Http404: the page still
# answers 404, the trail says who asked).
REFUSALS = (PermissionDenied, RecordLocked, Http404)


def refusal_message(refusal) -> str:
    """The message the user was shown, as one line (a ValidationError may carry several)."""
    if isinstance(refusal, ValidationError):
        return "；".join(refusal.messages)
    return str(refusal)


def record_refusal(actor: Actor | None, action: str, obj=None, *, project=None, message="") -> AuditEvent:
    """One `<action>.refused` event: who (and for which organisation, from where, when) was refused what, why."""
    return record(actor, f"{action}.refused", obj, project=project, message=message)


@contextmanager
def refusals_recorded(
    actor: Actor | None,
    action: str,
    obj=None,
    *,
    project=None,
    target=None,
    refusals=REFUSALS,
    message_of=refusal_message,
):
    """Record a refusal raised inside the block as `<action>.refused`, then re-raise it unchanged (a 404 stays a
    404, a PermissionDenied a 403 or the page's message).

    Use it around the refused work's transaction, not inside it: that transaction rolls back, and the event is
    then written in a transaction of its own (record()'s), so the refusal survives the work it refused.

    `obj` and `project`: what was refused; or `target`, a callable returning (obj, project), called only when
    a refusal is recorded (e.g. to look up an object by the id a service was given). `refusals`: the exception
    classes that count as refusals; `message_of`: the message to record, or None to let one pass unrecorded
    (e.g. a rule finding shown beside its field)."""
    try:
        yield
    except refusals as refusal:
        message = message_of(refusal)
        if message is not None:
            if target is not None:
                obj, project = target()
            record_refusal(actor, action, obj, project=project, message=message)
        raise


def audits_refusals(action: str, *, target=None, refusals=REFUSALS, message_of=refusal_message):
    """refusals_recorded() around a service that takes keyword arguments (actor=… among them).

    `target(kwargs)` returns (obj, project) for the event; without it the service's `project` argument is both.
    Put it above @transaction.atomic, so the refused work has rolled back when the refusal is recorded."""

    def decorate(service):
        @wraps(service)
        def wrapper(*args, actor, **kwargs):
            def refused_target():
                if target is not None:
                    return target(kwargs)
                return kwargs.get("project"), kwargs.get("project")

            with refusals_recorded(
                actor, action, target=refused_target, refusals=refusals, message_of=message_of
            ):
                return service(*args, actor=actor, **kwargs)

        return wrapper

    return decorate
