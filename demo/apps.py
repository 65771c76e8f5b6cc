from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`make run`'s demo data (DEMO_MODE only). Sits on top of every app: its seed calls their services."""

    name = "demo"
    verbose_name = "演示数据"
