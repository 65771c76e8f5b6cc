"""Indexes for the review console's lists at a million records (docs/architecture.md, "At national scale").

The console never lists drafts (permissions.visible_projects), and a draft's empty submission date sorts first in
the newest-first order: walking 0006's indexes, the city's list read past all 40,000 drafts of a million records
before its first row (1.2 s, EXPLAIN ANALYZE), its filter by status past 150,000 rows. These are partial (no
drafts) and match the lists' filters and their order: the city's list and its filter by status; a district's list,
its filters by status and the work queue's tabs (authority, status, in submission order). The filter by enterprise
(review.admin.EnterpriseFilter) walks the enterprises' names and asks, for each, whether one of its records is
visible (for a district: authority, enterprise). The city's work queue asks on every page whether a design record
waits to be routed (permissions.awaiting_routing): it read all 20,000 submitted records of a million to find none.
Figures: bench/README.md, "console_list.py".
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0019_audit_chains"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="enterprise",
            index=models.Index(fields=["name"], name="enterprise_name"),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["-submitted_at", "-id"],
                name="project_console_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["status", "-submitted_at", "-id"],
                name="project_console_status",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["authority", "-submitted_at", "-id"],
                name="project_console_auth_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["authority", "status", "-submitted_at", "-id"],
                name="project_console_auth_status",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(("status", "draft"), _negated=True),
                fields=["authority", "enterprise"],
                name="project_console_auth_ent",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(
                    ("kind", "design"),
                    ("reviewing_agency__isnull", True),
                    ("routed_to_district", False),
                    ("status", "submitted"),
                ),
                fields=["submitted_at", "id"],
                name="project_awaiting_routing",
            ),
        ),
    ]
