"""Who may act: the one place that reads a user's Membership and says what it allows (docs/permissions.md).

Four groups, each a plain function of the user (and the object, when the answer depends on it):

- role predicates: what the user is (an enterprise's clerk, a reviewer, the city, a department of the city…);
- object checks: may this user act on this object (a record, a correction request, a spot-check item…);
- visible querysets: which rows the user may see, as a filter over a queryset the caller starts from;
- ensure_ helpers: the same rules as refusals, raising PermissionDenied with the Chinese message the user sees.
  projects.audit records such a refusal (refusals_recorded); nothing else needs to know the rule.

A user without a Membership acts for no organisation: anonymous visitors, staff accounts and superusers. A
superuser is allowed where the rule below says so, not everywhere. An inactive user answers as its membership
does: the login (Django's ModelBackend) is what keeps it out, not this module.

This module imports no app but projects. Rules about a later app's objects (correction requests, spot-check
items) take the object and read only its plain attributes (status, project, department, stage); the state
values they compare with are those apps' and are pinned equal to them by tests/test_policy.py.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import (
    PROJECT_KIND_OF_ENTERPRISE,
    CityDepartment,
    Duty,
    Membership,
    Project,
    ProjectKind,
    Role,
    StageCode,
    Status,
)

# Drafts are the enterprise's own business: no reviewer or city user sees a record before its first submission.
NOT_YET_SUBMITTED = (Status.DRAFT,)

# The correction request's states these rules depend on (review.models.CorrectionStatus; docs/corrections.md).
CORRECTION_FILED = "filed"
CORRECTION_AT_CITY = "at_city"
CORRECTION_OPEN = (CORRECTION_FILED, CORRECTION_AT_CITY)


# ---------------------------------------------------------------- role predicates


def membership_of(user) -> Membership | None:
    """The organisation the user acts for, or None (anonymous, or an account no organisation vouches for)."""
    if user is None or not user.is_authenticated:
        return None
    return getattr(user, "membership", None)


def _role(user) -> str | None:
    membership = membership_of(user)
    return membership.role if membership is not None else None


def _is_superuser(user) -> bool:
    return bool(getattr(user, "is_superuser", False))


def is_enterprise(user) -> bool:
    """An enterprise's clerk: fills in its own records (a drawing-review agency's clerk is one too)."""
    return _role(user) == Role.ENTERPRISE


def enterprise_of(user):
    """The enterprise the user fills in for, or None."""
    return membership_of(user).enterprise if is_enterprise(user) else None


def is_reviewer(user) -> bool:
    """A reviewer of a district/county or development zone (any authority)."""
    return _role(user) == Role.REVIEWER


def is_agency_reviewer(user) -> bool:
    """A drawing-review agency's reviewer (审查机构审核人员): reviews the design records routed to its agency
    (docs/design-projects.md)."""
    return _role(user) == Role.AGENCY_REVIEWER


def agency_of(user):
    """The drawing-review agency (an Enterprise) the user reviews for, or None."""
    return membership_of(user).enterprise if is_agency_reviewer(user) else None


def is_review_staff(user) -> bool:
    """Decides records in the console: a district's reviewer or a drawing-review agency's."""
    return _role(user) in (Role.REVIEWER, Role.AGENCY_REVIEWER)


def is_city(user) -> bool:
    """The city commission (any department), or a superuser: spot checks, the blacklist, the figures, the
    windows (docs/figures.md: reviewers and enterprises do not see the city's figures)."""
    return _role(user) == Role.CITY or _is_superuser(user)


def department_of(user) -> str:
    """The city department the user works in; "" for the commission as a whole or for anyone not of the city."""
    membership = membership_of(user)
    return membership.department if membership is not None and membership.role == Role.CITY else ""


def is_approval_center(user) -> bool:
    """The city's approval service center decides correction requests (docs/corrections.md); a superuser too,
    when no membership says otherwise."""
    membership = membership_of(user)
    if membership is not None:
        return membership.role == Role.CITY and membership.department == CityDepartment.APPROVAL_CENTER
    return _is_superuser(user)


def is_console_user(user) -> bool:
    """Reviewers, city users and superusers use the review console (the admin site also asks is_staff)."""
    return _is_superuser(user) or _role(user) in (Role.REVIEWER, Role.CITY, Role.AGENCY_REVIEWER)


def has_organisation(user) -> bool:
    """Acts for an organisation (or is a superuser): may open the correction pages at all."""
    return membership_of(user) is not None or _is_superuser(user)


def organisation_name(user) -> str:
    """The organisation shown beside the user's name in the header ("" without a membership)."""
    membership = membership_of(user)
    return membership.organisation_name if membership is not None else ""


# ---------------------------------------------------------------- object checks


def owns(user, project) -> bool:
    """The user is a clerk of the enterprise whose record this is."""
    membership = membership_of(user)
    return is_enterprise(user) and membership.enterprise_id == project.enterprise_id


def reviewer_of(user, project) -> bool:
    """The record's reviewer: decides on it (docs/lifecycle.md, "Who may run which transition"), handles its
    objections, gives the opinion on its corrections. A construction record's: a reviewer of the authority where
    it lies. A design record's: a reviewer of the agency it was routed to, or of its district once the city routed
    it there (docs/design-projects.md); before that nobody's."""
    membership = membership_of(user)
    if membership is None:
        return False
    if project.kind == ProjectKind.DESIGN:
        if membership.role == Role.AGENCY_REVIEWER:
            return (
                project.reviewing_agency_id is not None
                and membership.enterprise_id == project.reviewing_agency_id
            )
        return (
            membership.role == Role.REVIEWER
            and project.routed_to_district
            and membership.authority_id == project.authority_id
        )
    return membership.role == Role.REVIEWER and membership.authority_id == project.authority_id


def may_start(user, kind) -> bool:
    """A construction enterprise starts construction records, a survey/design enterprise design records; a
    drawing-review agency's clerk neither (docs/design-projects.md)."""
    enterprise = enterprise_of(user)
    return enterprise is not None and PROJECT_KIND_OF_ENTERPRISE.get(enterprise.kind) == kind


def may_route(user, project) -> bool:
    """The city gives a submitted design record that waits for a reviewer to an agency or to its district."""
    return is_city(user) and project.status == Status.SUBMITTED and project.awaits_routing


def may_decide(user, project) -> bool:
    """Whether the console offers approve/return/reject: a submitted record, to its own authority's reviewer."""
    return project.status == Status.SUBMITTED and reviewer_of(user, project)


def may_handle_objections(user, project) -> bool:
    """Dismiss or uphold a public objection: the record's reviewers (docs/lifecycle.md)."""
    return reviewer_of(user, project)


def may_retry_delivery(user, project) -> bool:
    """Send a failed delivery to the national platform again: the record's reviewers and any city user (not a
    superuser without a membership)."""
    return reviewer_of(user, project) or _role(user) == Role.CITY


def may_order(user, project) -> bool:
    """Order the enterprise to correct a record in the library: its authority's reviewers, any city user (spot
    checks), a superuser without a membership (docs/corrections.md)."""
    if membership_of(user) is None:
        return _is_superuser(user)
    return _role(user) == Role.CITY or reviewer_of(user, project)


def may_give_opinion(user, correction_request) -> bool:
    """The district's opinion on a filed correction request: a reviewer of the record's authority."""
    return correction_request.status == CORRECTION_FILED and reviewer_of(user, correction_request.project)


def may_withdraw_correction(user, correction_request) -> bool:
    """The enterprise may withdraw its own request while it is open."""
    return correction_request.status in CORRECTION_OPEN and owns(user, correction_request.project)


def may_decide_correction(user, correction_request) -> bool:
    """The city's decision on a request sent up by the district: the approval service center."""
    return correction_request.status == CORRECTION_AT_CITY and is_approval_center(user)


def may_record_finding(user, item) -> bool:
    """A spot-check item's finding is recorded by the department that checks its stage; a superuser may too."""
    if _is_superuser(user):
        return True
    department = department_of(user)
    return bool(department) and department == item.department


# ---------------------------------------------------------------- visible querysets


def visible_projects(user):
    """Enterprise: its own records. Reviewer: submitted records lying in its authority. City: all submitted.
    Anyone else, a superuser without a membership included: none (the console gives superusers all)."""
    membership = membership_of(user)
    if membership is None:
        return Project.objects.none()
    if membership.role == Role.ENTERPRISE:
        return Project.objects.filter(enterprise_id=membership.enterprise_id)
    if membership.role == Role.REVIEWER:
        # Design records of its area too: the district where a design project lies may read it.
        return Project.objects.filter(authority_id=membership.authority_id).exclude(
            status__in=NOT_YET_SUBMITTED
        )
    if membership.role == Role.AGENCY_REVIEWER:
        return Project.objects.filter(
            kind=ProjectKind.DESIGN, reviewing_agency_id=membership.enterprise_id
        ).exclude(status__in=NOT_YET_SUBMITTED)
    if membership.role == Role.CITY:
        return Project.objects.exclude(status__in=NOT_YET_SUBMITTED)
    return Project.objects.none()


def _reviewed_by(membership, project=""):
    """A filter: the records `membership` (a reviewer's or an agency reviewer's) decides (see reviewer_of)."""
    prefix = f"{project}__" if project else ""
    if membership.role == Role.AGENCY_REVIEWER:
        return Q(
            **{f"{prefix}kind": ProjectKind.DESIGN, f"{prefix}reviewing_agency_id": membership.enterprise_id}
        )
    return Q(**{f"{prefix}authority_id": membership.authority_id}) & (
        ~Q(**{f"{prefix}kind": ProjectKind.DESIGN}) | Q(**{f"{prefix}routed_to_district": True})
    )


def decided_projects(user):
    """The records the user is the reviewer of (its work queue): a subset of visible_projects."""
    membership = membership_of(user)
    if membership is None or membership.role not in (Role.REVIEWER, Role.AGENCY_REVIEWER):
        return Project.objects.none()
    return Project.objects.filter(_reviewed_by(membership)).exclude(status__in=NOT_YET_SUBMITTED)


def awaiting_routing(user):
    """The city's queue of design records waiting for a reviewer (may_route); anyone else none."""
    if not is_city(user):
        return Project.objects.none()
    return Project.objects.filter(
        kind=ProjectKind.DESIGN,
        status=Status.SUBMITTED,
        reviewing_agency__isnull=True,
        routed_to_district=False,
    )


def scoped_to_records(user, queryset, *, project="project"):
    """Rows about records (correction requests, orders…: `project` names their Project field), filtered to the
    records the user may follow, drafts included: an enterprise its own, a reviewer its authority's, the city
    (any department) and a superuser without a membership all; anyone else none."""
    membership = membership_of(user)
    if membership is None:
        return queryset if _is_superuser(user) else queryset.none()
    if membership.role == Role.ENTERPRISE:
        return queryset.filter(**{f"{project}__enterprise_id": membership.enterprise_id})
    if membership.role == Role.REVIEWER:
        return queryset.filter(**{f"{project}__authority_id": membership.authority_id})
    if membership.role == Role.AGENCY_REVIEWER:
        return queryset.filter(_reviewed_by(membership, project))
    if membership.role == Role.CITY:
        return queryset
    return queryset.none()


def scoped_to_console(user, queryset, *, project="project"):
    """Rows the console lists (e.g. national deliveries): the city and superusers all, a reviewer its
    authority's records', anyone else none."""
    if is_city(user):
        return queryset
    if is_reviewer(user):
        return queryset.filter(**{f"{project}__authority_id": membership_of(user).authority_id})
    if is_agency_reviewer(user):
        return queryset.filter(_reviewed_by(membership_of(user), project))
    return queryset.none()


def correction_requests_awaiting(user, requests):
    """The correction requests waiting for this user's hand (the work queue's 更正待处理): a reviewer the filed
    ones of the records it reviews (the district's or the agency's opinion: may_give_opinion), the approval
    service center (a superuser too) those sent up (the city's decision: may_decide_correction); None for anyone
    else: not their work."""
    if is_review_staff(user):
        # The record's reviewer gives the opinion (may_give_opinion): a design record's agency, or its district
        # once the city routed it there (docs/design-projects.md).
        return requests.filter(status=CORRECTION_FILED).filter(_reviewed_by(membership_of(user), "project"))
    if is_approval_center(user):
        return requests.filter(status=CORRECTION_AT_CITY)
    return None


def checks_spot_checks(user) -> bool:
    """A user of a city department (or a superuser): spot-check items are routed to them (scoped_to_department)."""
    return bool(department_of(user)) or _is_superuser(user)


def scoped_to_department(user, queryset, *, department="department"):
    """Spot-check items routed to the user's city department; a superuser all; anyone else none."""
    if _is_superuser(user):
        return queryset
    own = department_of(user)
    return queryset.filter(**{department: own}) if own else queryset.none()


# ---------------------------------------------------------------- who acts for an organisation (who is told)


def enterprise_members(enterprise_id):
    """The memberships of an enterprise's clerks (inactive users included: the caller says whether to skip them)."""
    return Membership.objects.filter(role=Role.ENTERPRISE, enterprise_id=enterprise_id)


def authority_reviewers(authority_id):
    """The memberships of an authority's reviewers."""
    return Membership.objects.filter(role=Role.REVIEWER, authority_id=authority_id)


def agency_reviewers(agency_id):
    """The memberships of a drawing-review agency's reviewers (an agency "has an account" when there is one)."""
    return Membership.objects.filter(role=Role.AGENCY_REVIEWER, enterprise_id=agency_id)


def agency_reviewers_with_account():
    """Every active agency reviewer's membership: an agency "has an account" when it has one."""
    return Membership.objects.filter(role=Role.AGENCY_REVIEWER, user__is_active=True)


def project_reviewers(project):
    """Whom to tell about a record waiting for review: its reviewer organisation's members (reviewer_of)."""
    if project.kind == ProjectKind.DESIGN:
        if project.reviewing_agency_id is not None:
            return agency_reviewers(project.reviewing_agency_id)
        if not project.routed_to_district:
            return Membership.objects.none()
    return authority_reviewers(project.authority_id)


def department_members(departments):
    """The memberships of the city's users in any of `departments` (CityDepartment values)."""
    return Membership.objects.filter(role=Role.CITY, department__in=list(departments))


# ---------------------------------------------------------------- ensure_ helpers (refusals)


def ensure_enterprise(user):
    """The enterprise the user fills in for; refused for anyone else. Returns the enterprise."""
    if not is_enterprise(user):
        raise PermissionDenied("只有企业填报人员可以补录项目信息。")
    return membership_of(user).enterprise


def ensure_own_project(user, project):
    """Only the owner enterprise's clerks write to a record."""
    if ensure_enterprise(user).pk != project.enterprise_id:
        raise PermissionDenied("只能操作本企业的补录项目。")


def ensure_reviewer_of(user, project):
    """Only the record's reviewer may decide on it (review and publicity): see reviewer_of."""
    if not is_review_staff(user):
        raise PermissionDenied("只有区县（开发区）主管部门或施工图审查机构的审核人员可以审核补录项目。")
    if reviewer_of(user, project):
        return
    if project.kind != ProjectKind.DESIGN:
        if is_agency_reviewer(user):
            raise PermissionDenied(
                "施工图审查机构只审核设计项目；施工项目由项目所在地区县（开发区）主管部门审核。"
            )
        raise PermissionDenied("只能审核本辖区内的项目。")
    if is_agency_reviewer(user):
        raise PermissionDenied("只能审核本机构审查的设计项目。")
    raise PermissionDenied(
        "设计项目由施工图审查机构审核；项目所在地区县（开发区）主管部门可以查阅，市级分派给本辖区后方可审核。"
    )


def ensure_may_start(user, kind):
    """A construction enterprise may not start a design record, nor a survey/design enterprise a construction one."""
    enterprise = ensure_enterprise(user)
    if not may_start(user, kind):
        label = ProjectKind(kind).label if kind in ProjectKind.values else "该类"
        raise PermissionDenied(f"{enterprise.get_kind_display()}不能补录{label}。")


def ensure_may_route(user, project):
    ensure_city(user, "分派设计项目的审核")
    if not may_route(user, project):
        raise PermissionDenied("该项目不在待分派的设计项目中（可能已分派或已处理），请刷新后查看。")


def ensure_may_retry_delivery(user, project):
    if not may_retry_delivery(user, project):
        raise PermissionDenied("只有项目所在地审核部门或市级管理人员可以重新报送。")


def ensure_may_assign(user, *, reviewer, projects=()):
    """A reviewer gives the records it reviews to a reviewer of the same authority (or agency)."""
    if not is_review_staff(user):
        raise PermissionDenied("只有审核人员可以分派。")
    own, target = membership_of(user), membership_of(reviewer)
    same_organisation = (
        target is not None
        and target.role == own.role
        and target.authority_id == own.authority_id
        and target.enterprise_id == own.enterprise_id
    )
    if not same_organisation:
        raise PermissionDenied("只能分派给本部门的审核人员。")
    for project in projects:
        if not reviewer_of(user, project):
            raise PermissionDenied(
                "只能分派本辖区内的项目。" if is_reviewer(user) else "只能分派本机构审查的设计项目。"
            )


def ensure_city(user, doing: str):
    """`doing` completes the refusal: "只有市级管理人员可以{doing}。" (e.g. 设置补录时限, 创建抽查任务)."""
    if not is_city(user):
        raise PermissionDenied(f"只有市级管理人员可以{doing}。")


def ensure_has_organisation(user):
    if not has_organisation(user):
        raise PermissionDenied("您的账号尚未关联单位，请联系管理员。")


def ensure_owner(user, project):
    """The enterprise applies to correct its own record in the library (docs/corrections.md)."""
    if not is_enterprise(user):
        raise PermissionDenied("只有企业填报人员可以申请更正本企业的入库记录。")
    if not owns(user, project):
        raise PermissionDenied("只能申请更正本企业的项目。")


def ensure_district_of(user, project):
    """The district's opinion on a correction: the record's reviewer (a design record's agency: reviewer_of)."""
    if not is_review_staff(user):
        raise PermissionDenied("只有项目所在地区县（开发区）主管部门的审核人员可以核查更正申请。")
    if not reviewer_of(user, project):
        raise PermissionDenied("只能核查本辖区项目的更正申请。")


def ensure_approval_center(user):
    if not is_approval_center(user):
        raise PermissionDenied("只有市审批服务中心可以审定更正申请。")


# One answer for a number no record has and for another district's record: two would tell a reviewer that another
# district has a draft of that number (docs/permissions.md). The order form says it for an unknown number.
NO_PROJECT_TO_ORDER = "本辖区没有项目编号为“{number}”的补录项目。"


def ensure_may_order(user, project):
    if not (is_review_staff(user) or _role(user) == Role.CITY or _is_superuser(user)):
        raise PermissionDenied("只有区县（开发区）主管部门或市级管理人员可以发出更正通知。")
    if not may_order(user, project):
        raise PermissionDenied(NO_PROJECT_TO_ORDER.format(number=project.project_number))


def ensure_may_record_finding(user, item):
    if not may_record_finding(user, item):
        department = CityDepartment(item.department).label
        raise PermissionDenied(
            f"该抽查事项（{StageCode(item.stage).label}）由{department}核查，只有{department}的人员可以记录核查结论。"
        )


# ---------------------------------------------------------------- the three administrators (三员分立) and sign-in


def administrator_duty(user) -> str:
    """The administrator's duty (projects.models.Duty), "" for anyone else. A superuser holds none: it is for the
    installation (it creates the first administrators), and each use of it is audited (projects/signals.py)."""
    if user is None or not user.is_authenticated:
        return ""
    held = getattr(user, "administrator_duty", None)
    return held.duty if held is not None else ""


def is_system_administrator(user) -> bool:
    """Users' accounts and the organisations (enterprises, authorities)."""
    return administrator_duty(user) == Duty.SYSTEM


def is_security_administrator(user) -> bool:
    """Who acts for which organisation as what (memberships), login and two-factor locks, two-factor resets."""
    return administrator_duty(user) == Duty.SECURITY


def is_audit_administrator(user) -> bool:
    """Reads and exports the audit trail and checks its chain; changes nothing, the trail included."""
    return administrator_duty(user) == Duty.AUDIT


def may_manage_accounts(user) -> bool:
    """The system administrator's work (and the superuser's, at installation)."""
    return is_system_administrator(user) or _is_superuser(user)


def may_change_account(user, account) -> bool:
    """A system administrator changes ordinary accounts only: not an administrator's or a superuser's (resetting
    the audit administrator's password would let it act as the audit administrator); a superuser any."""
    if _is_superuser(user):
        return True
    return (
        is_system_administrator(user)
        and not getattr(account, "is_superuser", False)
        and not administrator_duty(account)
    )


def may_manage_roles(user) -> bool:
    """The security administrator's work (and the superuser's, at installation)."""
    return is_security_administrator(user) or _is_superuser(user)


def may_read_audit(user) -> bool:
    """The audit administrator's work (and the superuser's, at installation). Nobody changes the trail."""
    return is_audit_administrator(user) or _is_superuser(user)


def may_assign_duties(user) -> bool:
    """Only a superuser makes administrators: an administrator who could would make itself another."""
    return _is_superuser(user)


def may_hold_membership(user) -> bool:
    """An administrator or a superuser acts for no organisation: a membership would add a business role to it."""
    return not administrator_duty(user) and not _is_superuser(user)


def sees_audit_alarm(user) -> bool:
    """A broken audit chain is shown to the administrators, the superuser and the city (projects/retention.py)."""
    if membership_of(user) is not None:  # acts for an organisation: no administrator (may_hold_membership)
        return is_city(user)
    return bool(administrator_duty(user)) or _is_superuser(user)


def must_use_two_factor(user) -> bool:
    """Whether the user must sign in with a second factor (backfill_portal/two_factor.py): the roles named in
    settings.OTP_REQUIRED_FOR_ROLES ("reviewer", "city", "administrator" — the three and superusers). Not in
    DEMO_MODE, whose logins are published (the demo banner says so). Anyone may turn it on anyway."""
    if user is None or not user.is_authenticated or settings.DEMO_MODE:
        return False
    roles = set(settings.OTP_REQUIRED_FOR_ROLES)
    if "administrator" in roles and (_is_superuser(user) or administrator_duty(user)):
        return True
    return _role(user) in roles


def ensure_system_administrator(user, doing: str):
    if not may_manage_accounts(user):
        raise PermissionDenied(f"只有系统管理员可以{doing}。")


def ensure_security_administrator(user, doing: str):
    if not may_manage_roles(user):
        raise PermissionDenied(f"只有安全管理员可以{doing}。")


def ensure_audit_administrator(user, doing: str):
    if not may_read_audit(user):
        raise PermissionDenied(f"只有审计管理员可以{doing}。")
