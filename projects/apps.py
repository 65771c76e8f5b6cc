from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "补录项目"

    def ready(self):
        # Login signal receivers: the idle-session clock (backfill_portal/sessions.py) and the first-login password
        # change (backfill_portal/passwords.py).
        from backfill_portal import passwords, sessions  # noqa: F401
