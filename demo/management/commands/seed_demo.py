"""Demo data for `make run`: the demo logins, and records in every state made through the services.

Idempotent: re-running creates no record twice (demo/records.py: the demo enterprises' records are the marker)
and resets the demo users' passwords to DEMO_PASSWORD. Refuses to run unless settings.DEMO_MODE is on: demo
logins with a known password must never reach production.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.accounts import demo_login_lines, demo_password, seed_accounts
from demo.broker import prepare_broker_folders
from demo.records import seed_records


class Command(BaseCommand):
    help = "创建演示账号与演示数据（仅限 DEMO_MODE）。Create the demo logins and data (DEMO_MODE only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "演示数据只能在演示模式下创建：请设置环境变量 DEMO_MODE=1。"
                " / Demo data can only be seeded in demo mode: set DEMO_MODE=1."
            )
        password = demo_password()
        prepare_broker_folders()  # the seed enqueues deliveries for the worker
        started = time.monotonic()
        # One transaction: a seed that fails half-way leaves nothing, and the next run starts again.
        with transaction.atomic():
            users = seed_accounts(password)
            seeded = seed_records(users)
        if seeded:
            self.stdout.write(f"演示记录已创建 / demo records seeded in {time.monotonic() - started:.1f} s")
        else:
            self.stdout.write("演示记录已存在，未重复创建 / demo records already there: nothing added")
        self.stdout.write(self.style.SUCCESS("演示数据已就绪 / demo data ready"))
        for line in demo_login_lines(password):
            self.stdout.write(line)
