"""factory-boy factories for users and organisations, and helpers that give a user a Membership.

Project and stage factories are kept with the tests of the record itself (written separately).
"""

import factory
from django.contrib.auth import get_user_model
from stdnum.cn import uscc

from projects.models import Authority, Enterprise, EnterpriseKind, Membership, Role

TEST_PASSWORD = "test-pass-2018"


def credit_code(n: int, division: str = "500103") -> str:
    """A valid unified social credit code (GB 32100-2015), unique per n.

    91 = registered by the market regulator, an enterprise; then the division code; then a 9-character
    organisation code "MA" + 7 digits (all within the code's alphabet, which has no I, O, S, V, Z); then the
    check character computed by python-stdnum.
    """
    base = f"91{division}MA{n:07d}"
    return base + uscc.calc_check_digit(base)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"重庆测试建设工程有限公司{n}")
    credit_code = factory.Sequence(credit_code)
    kind = EnterpriseKind.CONSTRUCTION


def _member(user, **membership):
    Membership.objects.create(user=user, **membership)
    return user


def make_enterprise_user(enterprise=None, username=None, **user_fields):
    """A user who fills in backfills for `enterprise` (a new construction enterprise if None)."""
    if username:
        user_fields["username"] = username
    user = UserFactory(**user_fields)
    return _member(user, role=Role.ENTERPRISE, enterprise=enterprise or EnterpriseFactory())


def make_reviewer(authority: Authority, username=None, **user_fields):
    """A reviewer of `authority` (a district/county or development zone), with access to the admin."""
    if username:
        user_fields["username"] = username
    user_fields.setdefault("is_staff", True)
    user = UserFactory(**user_fields)
    return _member(user, role=Role.REVIEWER, authority=authority)


def make_city_user(username=None, department="", **user_fields):
    """A city commission user (spot checks, corrections, figures per district), of `department` (a
    projects.models.CityDepartment value; "" = the commission as a whole)."""
    if username:
        user_fields["username"] = username
    user_fields.setdefault("is_staff", True)
    user = UserFactory(**user_fields)
    return _member(user, role=Role.CITY, department=department)


def enter_library(project, *, national_id=None, entered_at=None):
    """Put a record (made by tests.builders.make_project) in the national library the short way: its snapshot v1
    as publicity.snapshots builds it, a LibraryEntry, the status in_national_library. No notice, no outbox, no
    audit: for tests that need records in the library in bulk (spot checks, integrity)."""
    from django.utils import timezone

    from projects.models import Project, Status
    from publicity import snapshots
    from publicity.models import LibraryEntry, Snapshot

    content = snapshots.build_content(project)
    snapshot = Snapshot.objects.create(project=project, version=1, content=content, reason="测试入库")
    LibraryEntry.objects.create(
        project=project,
        national_id=national_id or f"NP-TEST-{project.pk:06d}",
        snapshot=snapshot,
        entered_at=entered_at or timezone.now(),
        project_number=project.project_number,
        project_name=project.name,
        enterprise_name=content["enterprise"]["name"],
        enterprise_credit_code=content["enterprise"]["credit_code"],
        authority_id=project.authority_id,
        project_type=project.project_type,
        document_numbers=snapshots.document_numbers(content),
    )
    Project.objects.filter(pk=project.pk).update(status=Status.IN_NATIONAL_LIBRARY)
    project.refresh_from_db()
    return project
