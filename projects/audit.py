"""The audit trail every app writes to (谁录入，谁负责): record() is the only way an AuditEvent is made."""

import datetime
import ipaddress
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils.ipv6 import clean_ipv6_address

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


def serialise(value):
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


def record_many(actor: Actor | None, entries: list[Entry]) -> list[AuditEvent]:
    """Append several events of one actor to the chain, in order, under one lock of the chain head: the same
    events, each chained to the one before, as that many record() calls, in one INSERT (the bulk import writes a
    project and its six stages this way). Runs inside the caller's transaction."""
    user = actor.user if actor and actor.user.is_authenticated else None
    who = {
        "actor": user,
        "actor_username": user.get_username() if user else "",
        "organisation": actor.organisation_name if actor and user else "",
        "ip_address": stored_ip(actor.ip_address) if actor else None,
    }
    # No savepoint of its own: inside the caller's transaction an error here rolls back the change it describes.
    with transaction.atomic(savepoint=False):
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        events, previous_hash = [], head.last_hash
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
                previous_hash=previous_hash,
            )
            # Rounded to microseconds as the database stores them, so the hash verifies after a reload.
            event.hash = event.compute_hash()
            previous_hash = event.hash
            events.append(event)
        if len(events) == 1:
            events[0].save()
        else:
            # One INSERT: the ids come from the sequence in the list's order, and verify_chain walks id order.
            AuditEvent.objects.bulk_create(events)
        head.last_hash = previous_hash
        head.save(update_fields=["last_hash"])
    return events


@dataclass(frozen=True)
class ChainReport:
    """What verify_chain() found: how many events verified, and where the chain first breaks (if it does)."""

    checked: int
    # The first event that does not verify; with a cut tail, the last one kept.
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
    """Walk the chain in id order (record() appends under the head's lock, so id order is chain order) and stop
    at the first event that does not verify:

    - its content no longer gives its hash: the event was altered;
    - its previous_hash is not the hash of the event before it: an event in between was deleted, or the one
      before was altered and its hash recomputed to hide it;
    - the chain never reaches the hash the head held when the walk began: the newest events were deleted.

    The head is read before the walk, so events appended while it runs (the portal stays open) extend the chain
    past that hash and are verified too, instead of passing for a deleted tail.

    A rewrite of the whole chain from some event on, head included, is not detectable from inside the database:
    keep a copy of the head's hash elsewhere (e.g. print verify_audit's output to a log) to catch that.
    """
    head = AuditChainHead.objects.filter(pk=1).first()
    head_hash = head.last_hash if head is not None else ""
    reached = not head_hash  # an empty head is reached at once (no event yet when it was read)
    previous: AuditEvent | None = None
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.compute_hash() != event.hash:
            return ChainReport(checked, event, "其内容与哈希值不符：该记录在写入后被修改。")
        expected = previous.hash if previous is not None else ""
        if event.previous_hash != expected:
            if previous is None:
                reason = "它本应是链上的第一条记录，却指向一条不存在的前序记录：更早的记录被删除。"
            else:
                reason = (
                    f"它记录的前一哈希与上一条记录 #{previous.pk} 的哈希不符："
                    f"两者之间的记录被删除，或 #{previous.pk} 被修改后重算了哈希。"
                )
            return ChainReport(checked, event, reason)
        reached = reached or event.hash == head_hash
        previous = event
        checked += 1
    if head is None:
        if checked:
            return ChainReport(checked, previous, "审计链头记录缺失：链头被删除。")
        return ChainReport(checked)
    if not reached:
        # The head names a hash the chain no longer reaches: the newest events were deleted.
        if previous is None:
            return ChainReport(
                checked, None, "审计记录为空，但链头记录着最后一条记录的哈希：全部记录被删除。"
            )
        return ChainReport(
            checked,
            previous,
            "这是现存的最后一条记录，但链头记录的最后哈希不是它的：其后的最新记录被删除，"
            "或它本身被修改后重算了哈希。",
        )
    if not head_hash and checked and not AuditChainHead.objects.filter(pk=1).exclude(last_hash="").exists():
        # Events exist, yet the head is still empty after the walk: nothing was appended meanwhile, it was erased.
        return ChainReport(checked, previous, "链头记录的最后哈希被清空：链头被篡改。")
    return ChainReport(checked)


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
