"""The audit trail every app writes to (谁录入，谁负责): record() is the only way an AuditEvent is made."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import models, transaction

from .models import AuditChainHead, AuditEvent, Membership


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where. Views build it from the request; services take it as an argument."""

    user: object
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request) -> "Actor":
        # REMOTE_ADDR only: a client-supplied X-Forwarded-For would let anyone forge where they acted from.
        return cls(user=request.user, ip_address=request.META.get("REMOTE_ADDR") or None)

    @property
    def membership(self) -> Membership | None:
        return getattr(self.user, "membership", None) if self.user.is_authenticated else None

    @property
    def organisation_name(self) -> str:
        membership = self.membership
        if membership is not None:
            return membership.organisation_name
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


def record(actor: Actor | None, action: str, obj, *, project=None, changes=None, message="") -> AuditEvent:
    """Append one event to the chain. Runs inside the caller's transaction, so it commits or rolls back
    with the change it describes."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        user = actor.user if actor and actor.user.is_authenticated else None
        event = AuditEvent(
            actor=user,
            actor_username=user.get_username() if user else "",
            organisation=actor.organisation_name if actor and user else "",
            ip_address=actor.ip_address if actor else None,
            action=action,
            object_type=obj._meta.model_name if obj is not None else "",
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            project=project,
            changes=changes or {},
            message=message[:500],
            previous_hash=head.last_hash,
        )
        # Rounded to microseconds as the database stores them, so the hash verifies after a reload.
        event.hash = event.compute_hash()
        event.save()
        head.last_hash = event.hash
        head.save(update_fields=["last_hash"])
    return event


def labelled_changes(event: AuditEvent) -> list[tuple[str, object, object]]:
    """(field label, before, after) for an event's changes, with the model's Chinese labels where known."""
    from django.apps import apps

    try:
        model = apps.get_model("projects", event.object_type) if event.object_type else None
    except LookupError:
        model = None
    rows = []
    for name, pair in (event.changes or {}).items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        label = name
        if model is not None:
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except Exception:  # a change that is not a field (e.g. the comments of a return)
                label = {"comments": "审核意见"}.get(name, name)
        rows.append((label, before, after))
    return rows


def verify_chain() -> tuple[int, AuditEvent | None]:
    """Walk the chain in id order. Returns (events checked, first broken event or None)."""
    previous = ""
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != previous or event.compute_hash() != event.hash:
            return checked, event
        previous = event.hash
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_hash != previous:
        # The newest events were deleted: the head still names a hash the chain no longer reaches.
        return checked, None if not checked else AuditEvent.objects.order_by("-id").first()
    return checked, None
