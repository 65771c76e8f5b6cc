from django.apps import AppConfig


class PublicityConfig(AppConfig):
    name = "publicity"
    verbose_name = "公示与入库"

    def ready(self):
        from . import services  # noqa: F401 - connects the notice to the approval signal
