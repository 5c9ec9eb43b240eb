"""Campaigns, the customers each one reached or held out, and the customers who unsubscribed."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..experiments.stats.assignment import hash_point

#: Salt of the campaign holdout's hash (the purpose is the campaign's id, so each campaign draws anew).
HOLDOUT_SALT = "promotions-campaign-holdout"


class Campaign(models.Model):
    """One e-mail send: who (a segment), what (top promotions and products per customer), how it is measured."""

    class Segment(models.TextChoices):
        RECENT = "recent", _("bought in the last N days")
        CATEGORY = "category", _("bought in a category in the last N days")
        LAPSED = "lapsed", _("lapsed: bought before, but not in the last N days")

    name = models.CharField(_("name"), max_length=200)
    segment = models.CharField(_("segment"), max_length=16, choices=Segment.choices, default=Segment.RECENT)
    days = models.PositiveIntegerField(
        _("days"), default=30, validators=[MinValueValidator(1)], help_text=_("The N of the segment.")
    )
    category = models.CharField(
        _("category"), max_length=200, blank=True, help_text=_("For the category segment: the category's name.")
    )
    holdout_share = models.DecimalField(
        _("holdout share"),
        max_digits=4,
        decimal_places=3,
        default=0.1,
        validators=[MinValueValidator(0), MaxValueValidator(0.9)],
        help_text=_("The share of the segment that gets nothing, to measure the campaign's lift."),
    )
    promotion_count = models.PositiveIntegerField(
        _("promotions per customer"), default=3, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    product_count = models.PositiveIntegerField(
        _("products per customer"), default=4, validators=[MinValueValidator(0), MaxValueValidator(20)]
    )
    slot = models.CharField(
        _("slot"), max_length=64, default="home", help_text=_("The page slot whose promotions the e-mail shows.")
    )
    link_days = models.PositiveIntegerField(
        _("links valid for (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    attribution_days = models.PositiveIntegerField(
        _("attribution window (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Purchases this many days after a click (and, for the lift, after the send) count."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    exported_at = models.DateTimeField(_("exported"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def holds_out(self, customer: str) -> bool:
        """Whether this customer is in the campaign's holdout: a hash of campaign and customer (no table)."""
        share = float(self.holdout_share)
        return share > 0 and hash_point(HOLDOUT_SALT, f"campaign:{self.pk}", customer) < share


class Recipient(models.Model):
    """A customer of the campaign's segment at its export: sent the e-mail's row, or held out."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="recipients", verbose_name=_("campaign"))
    # The id the models know the customer by: "u:<user id>" or a visitor id ("ext:<customer id>").
    customer_key = models.CharField(_("customer"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    holdout = models.BooleanField(_("held out"), default=False)
    exported_at = models.DateTimeField(_("exported"))

    class Meta:
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [models.UniqueConstraint(fields=["campaign", "customer_key"], name="promo_recipient_once")]

    def __str__(self) -> str:
        return self.customer_key


class Unsubscribe(models.Model):
    """A customer who asked for no more campaign e-mails (their row's unsubscribe link, or staff)."""

    customer_key = models.CharField(_("customer"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("unsubscribed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign unsubscribe")
        verbose_name_plural = _("campaign unsubscribes")

    def __str__(self) -> str:
        return self.customer_key
