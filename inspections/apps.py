from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = "抽查"

    def ready(self):
        # A city department's spot-check items waiting for a finding are a tab of its work queue (review's page;
        # review imports no later app, so inspections registers the tab: projects/extensions.py).
        from projects import extensions

        from . import selectors

        extensions.register_work_count(
            "spot_checks",
            "抽查待核查",
            items=selectors.awaiting,
            template="inspections/_queue_tab.html",
            url_name="inspections:work",
        )
