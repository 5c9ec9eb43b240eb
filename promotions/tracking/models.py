"""Visitors and the append-only event log every model and experiment learns from."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    VIEW = "view", _("product view")
    SEARCH = "search", _("search")
    ADD_TO_CART = "add_to_cart", _("add to cart")
    REMOVE_FROM_CART = "remove_from_cart", _("remove from cart")
    PURCHASE = "purchase", _("purchase")
    RATING = "rating", _("rating")
    REVIEW = "review", _("review")
    DWELL = "dwell", _("dwell time")
    PROMOTION_IMPRESSION = "promotion_impression", _("promotion impression")
    PROMOTION_CLICK = "promotion_click", _("promotion click")
    RECOMMENDATION_IMPRESSION = "recommendation_impression", _("recommendation impression")
    RECOMMENDATION_CLICK = "recommendation_click", _("recommendation click")
    CAMPAIGN_CLICK = "campaign_click", _("campaign click")
    # Written by the app itself, never sent by a browser (the beacon API accepts its own list).
    BANDIT_PICK = "bandit_pick", _("bandit pick")
    UPLIFT_ASSIGNMENT = "uplift_assignment", _("uplift assignment")


class Visitor(models.Model):
    """One id under which events arrive: an anonymous cookie id or an imported customer id.

    Several visitors may link to one user (devices, browsers, an imported customer record),
    so one person's events are found from any of their ids.
    """

    class Kind(models.TextChoices):
        COOKIE = "cookie", _("anonymous cookie")
        EXTERNAL = "external", _("imported customer id")

    key = models.CharField(_("visitor id"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COOKIE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="promotions_visitors",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")

    def __str__(self) -> str:
        return self.key

    @staticmethod
    def external_key(customer_id: str) -> str:
        """The visitor id under which an imported customer's events are stored."""
        return f"ext:{customer_id}"


class Event(models.Model):
    """One thing a visitor did or was shown. Rows are never updated, only purged or erased."""

    event_type = models.CharField(_("type"), max_length=32)
    visitor_id = models.CharField(_("visitor id"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    # The product by its public id, so the event outlives the product row; the foreign key
    # (without a database constraint) lets the admin and queries follow it while it exists.
    item_id = models.CharField(_("product id"), max_length=64, blank=True)
    product = models.ForeignKey(
        settings.PROMOTIONS_PRODUCT_MODEL,
        models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        db_index=False,  # item_id's index serves product queries; one index less on every insert
        related_name="+",
        verbose_name=_("product"),
    )
    promotion_id = models.PositiveBigIntegerField(_("promotion"), null=True, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4, null=True, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    review_text = models.TextField(_("review"), blank=True)
    query = models.CharField(_("search query"), max_length=200, blank=True)
    result_count = models.PositiveIntegerField(_("search results"), null=True, blank=True)
    dwell_seconds = models.FloatField(_("dwell seconds"), null=True, blank=True)
    context = models.JSONField(_("context"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=80)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # A constraint rather than unique=True: on PostgreSQL the field option would add a second,
        # pattern-matching index on the key, which every insert pays for and nothing uses.
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="promo_event_idempotency_key")]
        indexes = [
            models.Index(fields=["occurred_at"], name="promo_event_time"),
            models.Index(fields=["visitor_id", "occurred_at"], name="promo_event_visitor"),
            models.Index(fields=["item_id", "occurred_at"], name="promo_event_item"),
            models.Index(fields=["event_type", "occurred_at"], name="promo_event_type"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.item_id or self.query} ({self.visitor_id})"

    @property
    def revenue(self):
        if self.quantity is None or self.unit_price is None:
            return None
        return self.quantity * self.unit_price


class DeadLetterEvent(models.Model):
    """A buffered event the flush could not store, kept with the reason instead of blocking the
    events behind it. The admin retries (repairing what the capture limits can repair) or discards it."""

    # The Redis stream entry id (or "direct:<key>" for a row written without the buffer), so a
    # flush retried after a crash records each dead letter once.
    source_id = models.CharField(_("source"), max_length=120, unique=True)
    reason = models.CharField(_("reason"), max_length=300)
    # The entry as received: JSON text, with anything a text column cannot hold escaped.
    payload = models.TextField(_("payload"))
    attempts = models.PositiveIntegerField(_("attempts"), default=1)
    created_at = models.DateTimeField(_("dead-lettered at"), auto_now_add=True)
    last_tried_at = models.DateTimeField(_("last tried at"), auto_now=True)

    class Meta:
        verbose_name = _("dead-lettered event")
        verbose_name_plural = _("dead-lettered events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source_id}: {self.reason}"
