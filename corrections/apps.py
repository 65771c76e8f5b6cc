from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "corrections"
    verbose_name = "更正"

    def ready(self):
        # The enterprise's project page offers a correction once the record is in the national library, and the
        # work queue lists the requests waiting for a district's opinion or the city's decision. projects and
        # review import no later app, so corrections adds its section and its tab there (projects/extensions.py).
        from projects import extensions
        from projects.models import Status

        from . import selectors

        extensions.register_project_section(
            "corrections/_project_section.html",
            applies=lambda project: project.status == Status.IN_NATIONAL_LIBRARY,
        )
        extensions.register_work_count(
            "corrections",
            "更正待处理",
            items=selectors.awaiting,
            template="corrections/_queue_tab.html",
            url_name="corrections:list",
        )
