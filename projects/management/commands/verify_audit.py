"""python manage.py verify_audit — prove the audit chain intact, or name the first event that breaks it."""

from django.core.management.base import BaseCommand, CommandError

from projects.audit import verify_chain


class Command(BaseCommand):
    help = (
        "逐条核验审计记录的哈希链：完整时输出记录条数并以0退出；"
        "被篡改（修改、删除中间记录或删除最新记录）时指出第一条有问题的记录并以非0退出。"
    )

    def handle(self, *args, **options):
        report = verify_chain()
        if not report.intact:
            raise CommandError(report.describe())
        self.stdout.write(report.describe())
