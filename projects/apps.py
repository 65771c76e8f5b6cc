from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "补录项目"

    def ready(self):
        # Login signal receivers: the idle-session clock (backfill_portal/sessions.py), the first-login password
        # change (backfill_portal/passwords.py), the second step (backfill_portal/two_factor.py), the superuser's
        # logins and every admin change as audit events (projects/administrators.py).
        from backfill_portal import passwords, psycopg_arrays, sessions, two_factor  # noqa: F401

        from . import administrators  # noqa: F401

        # Before the first connection: the array parameters of the bulk INSERTs (the import's batches, the audit
        # events) written without a regular expression per quote (backfill_portal/psycopg_arrays.py).
        psycopg_arrays.register()
