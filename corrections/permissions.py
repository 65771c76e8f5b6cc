"""Who may act on a correction: the checks the services enforce (`ensure_…`, raising PermissionDenied) and the
predicates the pages use to offer an action (`may_…`)."""

from django.core.exceptions import PermissionDenied

from projects.audit import Actor
from projects.models import CityDepartment, Membership, Project, Role

from .models import OPEN_CORRECTION_STATUSES, CorrectionRequest, CorrectionStatus

# ---------------------------------------------------------------- who may act


def _membership(actor: Actor) -> Membership | None:
    return actor.membership


def ensure_owner(actor: Actor, project: Project):
    membership = _membership(actor)
    if membership is None or membership.role != Role.ENTERPRISE:
        raise PermissionDenied("只有企业填报人员可以申请更正本企业的入库记录。")
    if membership.enterprise_id != project.enterprise_id:
        raise PermissionDenied("只能申请更正本企业的项目。")


def ensure_district_of(actor: Actor, project: Project):
    membership = _membership(actor)
    if membership is None or membership.role != Role.REVIEWER:
        raise PermissionDenied("只有项目所在地区县（开发区）主管部门的审核人员可以核查更正申请。")
    if membership.authority_id != project.authority_id:
        raise PermissionDenied("只能核查本辖区项目的更正申请。")


def is_approval_center(user) -> bool:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is not None:
        return membership.role == Role.CITY and membership.department == CityDepartment.APPROVAL_CENTER
    return bool(getattr(user, "is_superuser", False))


def ensure_approval_center(actor: Actor):
    if not is_approval_center(actor.user):
        raise PermissionDenied("只有市审批服务中心可以审定更正申请。")


def may_order(user, project: Project) -> bool:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None:
        return bool(getattr(user, "is_superuser", False))
    if membership.role == Role.CITY:
        return True
    return membership.role == Role.REVIEWER and membership.authority_id == project.authority_id


def ensure_may_order(actor: Actor, project: Project):
    membership = _membership(actor)
    if membership is None or membership.role not in (Role.REVIEWER, Role.CITY):
        if not getattr(actor.user, "is_superuser", False):
            raise PermissionDenied("只有区县（开发区）主管部门或市级管理人员可以发出更正通知。")
    if not may_order(actor.user, project):
        raise PermissionDenied("只能对本辖区的项目发出更正通知。")


def user_membership(user):
    return getattr(user, "membership", None) if user.is_authenticated else None


def may_give_opinion(user, request: CorrectionRequest) -> bool:
    membership = user_membership(user)
    return (
        request.status == CorrectionStatus.FILED
        and membership is not None
        and membership.role == Role.REVIEWER
        and membership.authority_id == request.project.authority_id
    )


def may_withdraw(user, request: CorrectionRequest) -> bool:
    membership = user_membership(user)
    return (
        request.status in OPEN_CORRECTION_STATUSES
        and membership is not None
        and membership.role == Role.ENTERPRISE
        and membership.enterprise_id == request.project.enterprise_id
    )


def may_decide(user, request: CorrectionRequest) -> bool:
    return request.status == CorrectionStatus.AT_CITY and is_approval_center(user)
