from django.apps import AppConfig


class PublicityConfig(AppConfig):
    name = "publicity"
    verbose_name = "公示与入库"

    def ready(self):
        from . import authorities, page_cache, services  # noqa: F401 - connect their signal receivers
