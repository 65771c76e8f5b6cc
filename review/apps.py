from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核"

    def ready(self):
        # Integrity enforcement (issue 5): a blacklisted enterprise may not start or submit backfills. projects
        # imports no other app, so review registers its guard there.
        from projects import services as project_services

        from . import integrity

        if integrity.blacklist_guard not in project_services.ENTERPRISE_GUARDS:
            project_services.ENTERPRISE_GUARDS.append(integrity.blacklist_guard)
