from django.apps import AppConfig


class CorrectionsConfig(AppConfig):
    name = "corrections"
    verbose_name = "更正"

    def ready(self):
        # The enterprise's project page offers a correction once the record is in the national library. projects
        # imports no other app, so corrections adds its section there (projects/extensions.py).
        from projects import extensions
        from projects.models import Status

        extensions.register_project_section(
            "corrections/_project_section.html",
            applies=lambda project: project.status == Status.IN_NATIONAL_LIBRARY,
        )
