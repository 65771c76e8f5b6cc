from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核"

    def ready(self):
        from django.db.models.signals import post_save

        from projects import extensions
        from projects.models import Evidence

        from . import queue, reuse

        # A new evidence image gets its perceptual hash when its row is inserted (review.reuse).
        post_save.connect(reuse.on_evidence_saved, sender=Evidence, dispatch_uid="review.reuse.fingerprint")
        # A reviewer's or the city's day starts at the work queue (review.queue).
        extensions.set_console_landing("review:queue")
        # The city's queue of design records whose agency has no account (docs/design-projects.md, "Routing").
        extensions.register_work_count(
            "design_routing",
            "待分派的设计项目",
            items=queue.awaiting_routing,
            template="review/_design_routing_tab.html",
            url_name="review:design_routing",
        )
