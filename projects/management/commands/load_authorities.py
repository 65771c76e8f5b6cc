from django.core.management.base import BaseCommand

from projects.reference import load_authorities


class Command(BaseCommand):
    help = "载入重庆市区县及开发区审核主管部门（幂等）。Load Chongqing's review authorities (idempotent)."

    def handle(self, *args, **options):
        count = load_authorities()
        self.stdout.write(self.style.SUCCESS(f"已载入审核主管部门 {count} 个 / loaded {count} authorities"))
