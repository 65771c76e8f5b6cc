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


def make_city_user(username=None, **user_fields):
    """A city commission user (spot checks, corrections, figures per district)."""
    if username:
        user_fields["username"] = username
    user_fields.setdefault("is_staff", True)
    user = UserFactory(**user_fields)
    return _member(user, role=Role.CITY)
