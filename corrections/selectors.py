"""Reads of corrections, scoped by who is asking: a request or an order another organisation owns is not found."""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from projects import permissions
from review.selectors import display_value

from .models import OPEN_CORRECTION_STATUSES, CorrectionOrder, CorrectionRequest, CorrectionStatus
from .values import field_label, parse_value, section_model

# ---------------------------------------------------------------- selectors


def visible_requests(user):
    """Enterprise: its own records' requests. Reviewer: its authority's. City (every department) and a superuser:
    all. Anyone else: none (projects.permissions.scoped_to_records)."""
    return permissions.scoped_to_records(user, CorrectionRequest.objects.all())


def visible_orders(user):
    """The same scopes as visible_requests; each order annotated `answered` (a request not withdrawn names it)."""
    orders = CorrectionOrder.objects.annotate(
        answered=Exists(
            CorrectionRequest.objects.filter(order=OuterRef("pk")).exclude(status=CorrectionStatus.WITHDRAWN)
        )
    )
    return permissions.scoped_to_records(user, orders)


def overdue_orders(user, *, today: datetime.date | None = None):
    """Orders past their due date that no request answers: a reviewer sees its authority's, the city all."""
    today = today or timezone.localdate()
    return visible_orders(user).filter(due_on__lt=today, answered=False)


def search_requests(requests, q: str = "", status: str = ""):
    if status:
        requests = requests.filter(status=status)
    q = (q or "").strip()
    if q:
        requests = requests.filter(
            Q(reference=q.upper())
            | Q(project__project_number=q)
            | Q(project__name__icontains=q)
            | Q(project__enterprise__name__icontains=q)
        )
    return requests


def search_orders(orders, q: str = ""):
    q = (q or "").strip()
    if q:
        orders = orders.filter(
            Q(project__project_number=q)
            | Q(project__name__icontains=q)
            | Q(project__enterprise__name__icontains=q)
        )
    return orders


def open_request_of(project) -> CorrectionRequest | None:
    return CorrectionRequest.objects.filter(project=project, status__in=OPEN_CORRECTION_STATUSES).first()


@dataclass(frozen=True)
class ItemView:
    label: str
    current: str
    proposed: str
    reason: str


def item_views(items) -> list[ItemView]:
    """Items as a reader reads them: the field's label, its current and proposed value shown as on the record."""
    views = []
    for item in items:
        try:
            model_field = section_model(item.stage)._meta.get_field(item.field_name)
            current = display_value(model_field, parse_value(model_field, item.current_value))
            proposed = display_value(model_field, parse_value(model_field, item.proposed_value))
        except (
            Exception
        ):  # a value kept as typed that no longer parses (a field changed since): shown as kept
            current, proposed = item.current_value, item.proposed_value
        views.append(ItemView(field_label(item.stage, item.field_name), current, proposed, item.reason))
    return views


def awaiting(user):
    """The work queue's 更正待处理 (registered in apps.py): requests waiting for this user's opinion or decision,
    oldest first; None when deciding corrections is not this user's work (projects.permissions)."""
    requests = permissions.correction_requests_awaiting(user, CorrectionRequest.objects.all())
    if requests is None:
        return None
    return requests.select_related("project__enterprise", "project__authority").order_by("filed_at", "id")
