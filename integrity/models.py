"""Integrity (诚信): the blacklist and the integrity ledger, on confirmed spot-check findings. The tables kept the
names they had when these models lived in the review app (`Meta.db_table`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from inspections.models import SpotCheckItem
from projects.models import PLAIN, Enterprise


class Blacklisting(models.Model):
    """An enterprise on the construction market blacklist (黑名单) for a period, on a confirmed false-information
    finding. Never deleted: lifted early with a reason, or it ends by its date."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="blacklistings")
    reason = models.TextField("列入原因", validators=PLAIN)
    source_item = models.ForeignKey(
        SpotCheckItem, on_delete=models.PROTECT, related_name="blacklistings", verbose_name="依据的抽查结论"
    )
    starts_on = models.DateField("列入日期")
    ends_on = models.DateField("届满日期")
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    listed_at = models.DateTimeField("登记时间", default=timezone.now)
    lifted_at = models.DateTimeField("提前移出时间", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_reason = models.TextField("移出原因", blank=True, validators=PLAIN)

    class Meta:
        db_table = "review_blacklisting"
        verbose_name = "黑名单"
        verbose_name_plural = "黑名单"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="blacklisting_dates_in_order", condition=models.Q(ends_on__gte=models.F("starts_on"))
            )
        ]
        indexes = [models.Index(fields=["enterprise", "ends_on"])]

    def __str__(self):
        return f"{self.enterprise} {self.starts_on}–{self.ends_on}"


class IntegrityDeduction(models.Model):
    """One line of an enterprise's integrity ledger (诚信扣分): points deducted, why, on which finding."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="integrity_deductions")
    points = models.DecimalField("扣分", max_digits=5, decimal_places=1)
    reason = models.TextField("扣分原因", validators=PLAIN)
    source_item = models.ForeignKey(
        SpotCheckItem, on_delete=models.PROTECT, null=True, blank=True, related_name="deductions"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        db_table = "review_integritydeduction"
        verbose_name = "诚信扣分"
        verbose_name_plural = "诚信扣分"
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(name="deduction_points_positive", condition=models.Q(points__gt=0))
        ]

    def __str__(self):
        return f"{self.enterprise} -{self.points}"
