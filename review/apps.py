from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核"

    def ready(self):
        from django.db.models.signals import post_save

        from projects import extensions
        from projects.models import Evidence

        from . import reuse

        # A new evidence image gets its perceptual hash when its row is inserted (review.reuse).
        post_save.connect(reuse.on_evidence_saved, sender=Evidence, dispatch_uid="review.reuse.fingerprint")
        # A reviewer's or the city's day starts at the work queue (review.queue).
        extensions.set_console_landing("review:queue")
