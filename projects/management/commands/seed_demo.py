"""Demo data for `make run`: one enterprise, two district reviewers, one city user, the backfill windows.

Idempotent: re-running creates nothing twice and resets the demo users' passwords to DEMO_PASSWORD.
Backfill windows are created only where missing, so an administrator's later edits survive a re-run.
Refuses to run unless settings.DEMO_MODE is on: demo logins with a known password must never reach production.
"""

import datetime
import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
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

# A fictitious enterprise registered in 渝中区 (500103); the check character is computed per GB 32100-2015.
_CREDIT_CODE_BASE = "91500103MA5YR2018"
DEMO_CREDIT_CODE = _CREDIT_CODE_BASE + uscc.calc_check_digit(_CREDIT_CODE_BASE)
DEMO_ENTERPRISE_NAME = "重庆示范建设工程有限公司"

# username → (role, authority code or None, is_staff)
DEMO_USERS = {
    "demo-enterprise": (Role.ENTERPRISE, None, False),
    "demo-reviewer-yuzhong": (Role.REVIEWER, "500103", True),  # 渝中区
    "demo-reviewer-liangjiang": (Role.REVIEWER, "LJXQ", True),  # 两江新区
    "demo-city": (Role.CITY, None, True),
}
# The demo city user works in the approval service center: it decides correction requests and checks permits.
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


class Command(BaseCommand):
    help = "创建演示账号与演示数据（仅限 DEMO_MODE）。Create the demo logins and data (DEMO_MODE only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "演示数据只能在演示模式下创建：请设置环境变量 DEMO_MODE=1。"
                " / Demo data can only be seeded in demo mode: set DEMO_MODE=1."
            )
        password = demo_password()
        with transaction.atomic():
            self._seed(password)
        self._print_logins(password)

    def _seed(self, password):
        if Authority.objects.filter(code__in=["500103", "LJXQ"]).count() < 2:
            load_authorities()

        enterprise, _ = Enterprise.objects.get_or_create(
            credit_code=DEMO_CREDIT_CODE,
            defaults={"name": DEMO_ENTERPRISE_NAME, "kind": EnterpriseKind.CONSTRUCTION},
        )

        User = get_user_model()
        for username, (role, authority_code, is_staff) in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = is_staff
            user.is_superuser = False
            user.is_active = True
            user.set_password(password)
            user.save()
            Membership.objects.update_or_create(
                user=user,
                defaults={
                    "role": role,
                    "enterprise": enterprise if role == Role.ENTERPRISE else None,
                    "authority": Authority.objects.get(code=authority_code) if authority_code else None,
                    "department": DEMO_CITY_DEPARTMENT if role == Role.CITY else "",
                },
            )

        for kind, (opens_on, closes_on, basis) in DEMO_WINDOWS.items():
            # get_or_create, not update_or_create: an administrator may have changed the window since.
            BackfillWindow.objects.get_or_create(
                enterprise_kind=kind,
                defaults={"opens_on": opens_on, "closes_on": closes_on, "basis": basis},
            )

    def _print_logins(self, password):
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        for line in demo_login_lines(password):
            self.stdout.write(line)


def demo_login_lines(password: str) -> list[str]:
    """The demo logins as lines to print (used by this command and by scripts/run_dev.py)."""
    descriptions = {
        "demo-enterprise": f"建筑企业 / enterprise — {DEMO_ENTERPRISE_NAME}",
        "demo-reviewer-yuzhong": "审核人员 / reviewer — 渝中区",
        "demo-reviewer-liangjiang": "审核人员 / reviewer — 两江新区",
        "demo-city": "市级管理人员 / city — 市审批服务中心",
    }
    lines = [f"  {username:<26} {text}" for username, text in descriptions.items()]
    lines.append(f"  密码 / password: {password}")
    return lines
