from django.apps import AppConfig


class IntegrityConfig(AppConfig):
    name = "integrity"
    verbose_name = "诚信"

    def ready(self):
        # A blacklisted enterprise may not start or submit backfills. projects imports no other app, so integrity
        # registers its guard there.
        from projects import services as project_services

        from . import selectors

        if selectors.blacklist_guard not in project_services.ENTERPRISE_GUARDS:
            project_services.ENTERPRISE_GUARDS.append(selectors.blacklist_guard)
