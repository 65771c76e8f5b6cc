"""The demo's organisations and logins: four enterprises, six district reviewers, one city user, the windows.

Idempotent: re-running creates nothing twice and resets the demo users' passwords to DEMO_PASSWORD.
Backfill windows are created only where missing, so an administrator's later edits survive a re-run.
"""

import datetime
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from stdnum.cn import uscc

from projects.models import (
    Authority,
    BackfillWindow,
    CityDepartment,
    Enterprise,
    EnterpriseKind,
    Membership,
    Role,
)
from projects.reference import load_authorities

DEFAULT_DEMO_PASSWORD = "demo-pass-2018"


def _credit_code(body: str) -> str:
    """A fictitious unified social credit code: the check character is computed per GB 32100-2015."""
    return body + uscc.calc_check_digit(body)


# Fictitious construction enterprises, each registered in the district its code names (91 + division + org code).
# key → (credit code, name, login)
DEMO_ENTERPRISES = {
    "shifan": (_credit_code("91500103MA5YR2018"), "重庆示范建设工程有限公司", "demo-enterprise"),
    "shancheng": (_credit_code("91500106MA5YR2019"), "重庆山城建筑工程有限公司", "demo-enterprise-shancheng"),
    "jialing": (_credit_code("91500105MA5YR2020"), "重庆嘉陵建设集团有限公司", "demo-enterprise-jialing"),
    # Its records are found false by the city's spot check and it is blacklisted (demo/records.py).
    "huaxin": (_credit_code("91500108MA5YR2021"), "重庆华信建设工程有限公司", "demo-enterprise-huaxin"),
}
DEMO_CREDIT_CODE, DEMO_ENTERPRISE_NAME, _ = DEMO_ENTERPRISES["shifan"]

# A survey/design enterprise (渝建〔2018〕103号) and the drawing-review agency its certificates name; the agency's
# credit code is the one every demo record's drawing review names (demo/records.py, REVIEW_AGENCY_CREDIT_CODE).
DEMO_DESIGN_ENTERPRISE = (_credit_code("91500103MA5YR2022"), "重庆示范建筑设计研究院有限公司", "demo-design")
DEMO_AGENCY = (_credit_code("91500103MC0000001"), "重庆市施工图审查中心", "demo-review-agency")
# The cut-off of the drawings' review for design records (渝建〔2018〕103号), data like the window.
DEMO_DRAWINGS_REVIEWED_BY = datetime.date(2018, 6, 30)

# Reviewers: login → authority code (the review authorities of projects/data/chongqing_authorities.csv).
DEMO_REVIEWERS = {
    "demo-reviewer-yuzhong": "500103",  # 渝中区
    "demo-reviewer-liangjiang": "LJXQ",  # 两江新区
    "demo-reviewer-jiangbei": "500105",  # 江北区
    "demo-reviewer-shapingba": "500106",  # 沙坪坝区
    "demo-reviewer-jiulongpo": "500107",  # 九龙坡区
    "demo-reviewer-nanan": "500108",  # 南岸区
}
DEMO_CITY_USER = "demo-city"
# The demo city user works in the approval service center: it decides correction requests and checks permits
# (the spot check of demo/records.py samples the permit stage, which that center checks).
DEMO_CITY_DEPARTMENT = CityDepartment.APPROVAL_CENTER

_BASIS_213 = "渝建〔2018〕213号；截止日期以住建部最终确定时间为准（演示数据已延长）"
_BASIS_103 = "渝建〔2018〕103号；截止日期以住建部最终确定时间为准（演示数据已延长）"
DEMO_WINDOWS = {
    EnterpriseKind.CONSTRUCTION: (datetime.date(2018, 1, 1), datetime.date(2027, 12, 31), _BASIS_213),
    EnterpriseKind.SURVEY_DESIGN: (datetime.date(2018, 3, 1), datetime.date(2027, 12, 31), _BASIS_103),
    EnterpriseKind.DRAWING_REVIEW: (datetime.date(2018, 3, 1), datetime.date(2027, 12, 31), _BASIS_103),
}


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def usernames() -> list[str]:
    return [login for _, _, login in DEMO_ENTERPRISES.values()] + [
        DEMO_DESIGN_ENTERPRISE[2],
        *DEMO_REVIEWERS,
        DEMO_AGENCY[2],
        DEMO_CITY_USER,
    ]


def seed_accounts(password: str) -> dict:
    """Create (or reset) the organisations and logins; return the users by login."""
    if Authority.objects.filter(code__in=set(DEMO_REVIEWERS.values())).count() < len(DEMO_REVIEWERS):
        load_authorities()
    authorities = {a.code: a for a in Authority.objects.filter(code__in=set(DEMO_REVIEWERS.values()))}
    # Hashed once for all eleven logins: each hash costs the hasher's full work factor (most of a second).
    password = make_password(password)
    users = {}
    for credit_code, name, login in DEMO_ENTERPRISES.values():
        enterprise, _ = Enterprise.objects.get_or_create(
            credit_code=credit_code, defaults={"name": name, "kind": EnterpriseKind.CONSTRUCTION}
        )
        users[login] = _user(login, password, is_staff=False, role=Role.ENTERPRISE, enterprise=enterprise)
    for login, code in DEMO_REVIEWERS.items():
        users[login] = _user(login, password, is_staff=True, role=Role.REVIEWER, authority=authorities[code])
    users[DEMO_CITY_USER] = _user(
        DEMO_CITY_USER, password, is_staff=True, role=Role.CITY, department=DEMO_CITY_DEPARTMENT
    )
    for (credit_code, name, login), kind, role, is_staff in (
        (DEMO_DESIGN_ENTERPRISE, EnterpriseKind.SURVEY_DESIGN, Role.ENTERPRISE, False),
        (DEMO_AGENCY, EnterpriseKind.DRAWING_REVIEW, Role.AGENCY_REVIEWER, True),
    ):
        organisation, _ = Enterprise.objects.get_or_create(
            credit_code=credit_code, defaults={"name": name, "kind": kind}
        )
        users[login] = _user(login, password, is_staff=is_staff, role=role, enterprise=organisation)
    for kind, (opens_on, closes_on, basis) in DEMO_WINDOWS.items():
        # get_or_create, not update_or_create: an administrator may have changed the window since.
        window, _ = BackfillWindow.objects.get_or_create(
            enterprise_kind=kind,
            defaults={"opens_on": opens_on, "closes_on": closes_on, "basis": basis},
        )
        if kind == EnterpriseKind.SURVEY_DESIGN and window.drawings_reviewed_by is None:
            BackfillWindow.objects.filter(pk=window.pk).update(drawings_reviewed_by=DEMO_DRAWINGS_REVIEWED_BY)
    return users


def _user(username, password_hash, *, is_staff, role, enterprise=None, authority=None, department=""):
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = is_staff
    user.is_superuser = False
    user.is_active = True
    user.password = password_hash
    user.save()
    Membership.objects.update_or_create(
        user=user,
        defaults={"role": role, "enterprise": enterprise, "authority": authority, "department": department},
    )
    # A fresh read: the services read user.membership, which the update above may have left stale.
    return get_user_model().objects.select_related("membership").get(pk=user.pk)


def demo_login_lines(password: str) -> list[str]:
    """The demo logins as lines to print (by seed_demo and by scripts/run_dev.py)."""
    descriptions = {login: f"建筑企业 / enterprise — {name}" for _, name, login in DEMO_ENTERPRISES.values()}
    names = dict(Authority.objects.filter(code__in=set(DEMO_REVIEWERS.values())).values_list("code", "name"))
    for login, code in DEMO_REVIEWERS.items():
        descriptions[login] = f"审核人员 / reviewer — {names.get(code, code)}"
    descriptions[DEMO_DESIGN_ENTERPRISE[2]] = (
        f"勘察设计企业 / design enterprise — {DEMO_DESIGN_ENTERPRISE[1]}"
    )
    descriptions[DEMO_AGENCY[2]] = f"审查机构审核人员 / drawing-review agency — {DEMO_AGENCY[1]}"
    descriptions[DEMO_CITY_USER] = "市级管理人员 / city — 市审批服务中心"
    lines = [f"  {username:<26} {text}" for username, text in descriptions.items()]
    lines.append(f"  密码 / password: {password}")
    return lines
