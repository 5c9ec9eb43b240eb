"""Promotions, their coupon codes, redemptions, and per-slot merchandising rules.

Product targeting is by the values the product adapter reports (category and brand names, public
product ids), so the app needs no foreign key into the shop's catalogue.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from . import pricing

MONEY = {"max_digits": 12, "decimal_places": 2}


class PromotionQuerySet(models.QuerySet):
    def live(self, at=None) -> PromotionQuerySet:
        """Active and inside their schedule at ``at`` (default now)."""
        at = at or timezone.now()
        return self.filter(status=Promotion.Status.ACTIVE).filter(
            models.Q(starts_at__isnull=True) | models.Q(starts_at__lte=at),
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at),
        )


class Promotion(models.Model):
    class Kind(models.TextChoices):
        PERCENTAGE = pricing.PERCENTAGE, _("percentage off")
        FIXED_AMOUNT = pricing.FIXED_AMOUNT, _("fixed amount off")
        FIXED_PRICE = pricing.FIXED_PRICE, _("fixed price")
        BUY_X_GET_Y = pricing.BUY_X_GET_Y, _("buy X get Y")
        FREE_SHIPPING = pricing.FREE_SHIPPING, _("free shipping")
        BANNER = pricing.BANNER, _("banner only")
        BUNDLE_PRICE = pricing.BUNDLE_PRICE, _("bundle at a price")
        BUNDLE_PERCENT = pricing.BUNDLE_PERCENT, _("bundle, percentage off")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        PAUSED = "paused", _("paused")
        # "ended" is also a date field's name elsewhere (the experiment's "ended"): a context apart.
        ENDED = "ended", pgettext_lazy("promotion status", "ended")

    class TargetKind(models.TextChoices):
        ALL = "all", _("all products")
        CATEGORIES = "categories", _("categories")
        BRANDS = "brands", _("brands")
        PRODUCTS = "products", _("a product set")
        DUE = "due", _("items due for this customer (replenishment)")

    class Audience(models.TextChoices):
        ANYONE = "any", _("anyone")
        NEW = "new", _("new visitors")
        RETURNING = "returning", _("returning visitors")

    class RankingSignal(models.TextChoices):
        AFFINITY = "affinity", _("affinity (who is drawn to the products)")
        UPLIFT = "uplift", _("uplift (who is persuaded by the offer)")
        BLEND = "blend", _("blend of both")

    name = models.CharField(_("name"), max_length=200)
    message = models.CharField(_("message"), max_length=300, help_text=_("What the customer reads."))
    message_zh_hans = models.CharField(
        _("message (Simplified Chinese)"), max_length=300, blank=True, help_text=_("Shown when the page is in Chinese.")
    )
    slots = models.JSONField(
        _("slots"),
        default=list,
        blank=True,
        help_text=_('Where it may appear, e.g. ["home", "cart"]; empty: everywhere.'),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERCENTAGE)
    value = models.DecimalField(
        _("value"),
        **MONEY,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Percent for a percentage, an amount for a fixed amount or fixed price."),
    )
    buy_quantity = models.PositiveIntegerField(_("buy quantity"), default=0)
    get_quantity = models.PositiveIntegerField(_("free quantity"), default=0)
    gift_item_id = models.CharField(
        _("gift product id"), max_length=64, blank=True, help_text=_("Buy X get Y: the free product, if not the same.")
    )
    target_kind = models.CharField(_("applies to"), max_length=16, choices=TargetKind.choices, default=TargetKind.ALL)
    target_values = models.JSONField(
        _("target values"), default=list, blank=True, help_text=_("Category names, brand names or product ids.")
    )
    coupon_required = models.BooleanField(_("needs a coupon code"), default=False)
    per_customer_limit = models.PositiveIntegerField(_("uses per customer"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher applies first and wins ties."))
    exclusive = models.BooleanField(_("exclusive"), default=False, help_text=_("Never combined with another."))
    stacks_with = models.ManyToManyField(
        "self",
        symmetrical=True,
        blank=True,
        verbose_name=_("stacks with"),
        help_text=_("Non-exclusive promotions it may combine with; empty: any non-exclusive one."),
    )
    max_redemptions = models.PositiveIntegerField(_("max redemptions"), null=True, blank=True)
    max_discount_total = models.DecimalField(_("max total discount"), **MONEY, null=True, blank=True)
    redemptions_count = models.PositiveIntegerField(_("redemptions"), default=0, editable=False)
    discount_spent = models.DecimalField(_("discount spent"), **MONEY, default=Decimal(0), editable=False)
    frequency_cap = models.PositiveIntegerField(
        _("frequency cap"), null=True, blank=True, help_text=_("Most times one visitor sees it per day.")
    )
    audience = models.CharField(_("audience"), max_length=16, choices=Audience.choices, default=Audience.ANYONE)
    signed_in_only = models.BooleanField(_("signed-in customers only"), default=False)
    min_cart_value = models.DecimalField(_("minimum cart value"), **MONEY, null=True, blank=True)
    rules = models.JSONField(
        _("extra rules"),
        default=list,
        blank=True,
        help_text=_("Names of rules registered in PROMOTIONS['ELIGIBILITY_RULES']."),
    )
    uplift_holdout = models.DecimalField(
        _("uplift holdout share"),
        max_digits=4,
        decimal_places=3,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal("0.5"))],
        help_text=_(
            "Share of eligible visitors (0 to 0.5) from whom the promotion is withheld at random in the slots, "
            "so its uplift can be learned; it still applies at checkout. 0: no holdout."
        ),
    )
    ranking_signal = models.CharField(
        _("ranking signal"),
        max_length=16,
        choices=RankingSignal.choices,
        default=RankingSignal.AFFINITY,
        help_text=_("What the personalized ranking orders it by; uplift needs a trained uplift model."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = PromotionQuerySet.as_manager()

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-priority", "pk"]
        permissions = [("view_promotion_figures", _("Can see promotion figures"))]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        if self.kind in (self.Kind.PERCENTAGE, self.Kind.BUNDLE_PERCENT) and self.value > 100:
            errors["value"] = _("A percentage cannot exceed 100.")
        if self.kind == self.Kind.BUY_X_GET_Y and (not self.buy_quantity or not self.get_quantity):
            errors["buy_quantity"] = _("Buy X get Y needs both quantities.")
        if self.target_kind not in (self.TargetKind.ALL, self.TargetKind.DUE) and not self.target_values:
            errors["target_values"] = _("Name at least one category, brand or product.")
        if self.kind in pricing.BUNDLES and (
            self.target_kind != self.TargetKind.PRODUCTS or len(set(self.target_values or ())) < 2
        ):
            errors["target_values"] = _("A bundle is a product set of two products or more.")
        if not isinstance(self.target_values, list) or not all(isinstance(v, str) for v in self.target_values):
            errors["target_values"] = _("Give a list of texts.")
        if not isinstance(self.slots, list) or not all(isinstance(v, str) and v for v in self.slots):
            errors["slots"] = _("Give a list of slot names.")
        if not isinstance(self.rules, list) or not all(isinstance(v, str) for v in self.rules):
            errors["rules"] = _("Give a list of rule names.")
        if errors:
            raise ValidationError(errors)

    @property
    def localized_message(self) -> str:
        language = (get_language() or "").lower()
        if self.message_zh_hans and language.startswith("zh") and "hant" not in language and "tw" not in language:
            return self.message_zh_hans
        return self.message

    @property
    def target(self) -> pricing.Target:
        return pricing.Target(self.target_kind, frozenset(self.target_values or ()))

    @property
    def budget_left(self) -> Decimal | None:
        if self.max_discount_total is None:
            return None
        return max(self.max_discount_total - self.discount_spent, Decimal(0))

    @property
    def budget_exhausted(self) -> bool:
        if self.max_redemptions is not None and self.redemptions_count >= self.max_redemptions:
            return True
        return self.budget_left is not None and self.budget_left <= 0

    def terms(self, stacks_with: frozenset[int] = frozenset()) -> pricing.Terms:
        return pricing.Terms(
            promotion_id=self.pk,
            kind=self.kind,
            value=self.value,
            target=self.target,
            priority=self.priority,
            exclusive=self.exclusive,
            stacks_with=stacks_with,
            buy_quantity=self.buy_quantity,
            get_quantity=self.get_quantity,
            gift_item_id=self.gift_item_id,
            budget_left=self.budget_left,
        )


class CouponCode(models.Model):
    """A code that unlocks a promotion: shared (many uses) or single-use."""

    promotion = models.ForeignKey(Promotion, models.CASCADE, related_name="codes", verbose_name=_("promotion"))
    code = models.CharField(_("code"), max_length=64, unique=True)
    single_use = models.BooleanField(_("single use"), default=False)
    used = models.PositiveIntegerField(_("times used"), default=0, editable=False)

    class Meta:
        verbose_name = _("coupon code")
        verbose_name_plural = _("coupon codes")

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs) -> None:
        self.code = self.code.strip().upper()  # codes are typed by customers: case and spaces do not matter
        super().save(*args, **kwargs)


class Redemption(models.Model):
    """A promotion used in an order, with the discount it gave; refunding returns it to the budget."""

    promotion = models.ForeignKey(Promotion, models.PROTECT, related_name="redemptions", verbose_name=_("promotion"))
    code = models.ForeignKey(CouponCode, models.SET_NULL, null=True, blank=True, verbose_name=_("coupon code"))
    order_ref = models.CharField(_("order"), max_length=64)
    visitor_id = models.CharField(_("visitor id"), max_length=64, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user")
    )
    #: Keyed hashes of the customer's e-mail and session, so "uses per customer" holds for shoppers
    #: who declined tracking (no visitor id) without storing the e-mail or session key itself.
    email_hash = models.CharField(_("e-mail (hashed)"), max_length=64, blank=True, db_index=True, editable=False)
    session_hash = models.CharField(_("session (hashed)"), max_length=64, blank=True, db_index=True, editable=False)
    discount = models.DecimalField(_("discount"), **MONEY)
    order_total = models.DecimalField(_("order total"), **MONEY, default=Decimal(0))
    redeemed_at = models.DateTimeField(_("redeemed"), default=timezone.now)
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        constraints = [models.UniqueConstraint(fields=["promotion", "order_ref"], name="promo_redemption_once")]
        indexes = [models.Index(fields=["promotion", "redeemed_at"], name="promo_redemption_time")]

    def __str__(self) -> str:
        return f"{self.promotion} / {self.order_ref}"


class SlotRule(models.Model):
    """Merchandising: staff pin or ban a product or a category in a slot ("*" for every slot)."""

    class Action(models.TextChoices):
        PIN = "pin", _("pin (always shown first)")
        BAN = "ban", _("ban (never shown)")

    class Scope(models.TextChoices):
        PRODUCT = "product", _("product")
        CATEGORY = "category", _("category")

    slot = models.CharField(_("slot"), max_length=64, default="*")
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    scope = models.CharField(_("applies to"), max_length=16, choices=Scope.choices, default=Scope.PRODUCT)
    value = models.CharField(_("product id or category"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Pins: lower comes first."))

    class Meta:
        verbose_name = _("slot rule")
        verbose_name_plural = _("slot rules")
        ordering = ["slot", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["slot", "action", "scope", "value"], name="promo_slot_rule_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.value} @ {self.slot}"


class SlotConfig(models.Model):
    """How a slot decides what it shows: the default ranking, an A/B experiment, or a bandit.

    The decision order is in ``promotions.serving.decide``; a running experiment wins over the
    bandit. The bandit's traffic shares (``weights``) are re-computed by a periodic task.
    """

    class Metric(models.TextChoices):
        CONVERSION = "conversion", _("conversion")
        REVENUE = "revenue", _("revenue per visitor")

    slot = models.CharField(_("slot"), max_length=64, unique=True)
    experiment = models.ForeignKey(
        "promotions.Experiment",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="slot_configs",
        verbose_name=_("experiment"),
        help_text=_(
            'While it runs, its variant config decides: {"personalized": false}, {"model": "item_knn"} or '
            '{"ranking": "uplift"} (or "affinity", "blend").'
        ),
    )
    bandit = models.BooleanField(_("run as a bandit"), default=False)
    bandit_metric = models.CharField(
        _("bandit metric"), max_length=16, choices=Metric.choices, default=Metric.CONVERSION
    )
    burn_in = models.PositiveIntegerField(_("burn-in visitors per arm"), default=100)
    min_share = models.DecimalField(_("minimum share per arm"), max_digits=5, decimal_places=4, default=Decimal("0.05"))
    contextual = models.BooleanField(
        _("contextual (per visitor segment)"),
        default=False,
        help_text=_("Learn shares per segment (new/returning x device x top category); thin segments borrow."),
    )
    weights = models.JSONField(_("bandit shares"), default=dict, blank=True, editable=False)
    #: Contextual bandits: ``{segment key: {promotion id: share}}``; unseen segments use ``weights``.
    segment_weights = models.JSONField(_("bandit shares per segment"), default=dict, blank=True, editable=False)
    weights_updated_at = models.DateTimeField(_("shares updated"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("slot")
        verbose_name_plural = _("slots")

    def __str__(self) -> str:
        return self.slot


class PromotionUpliftModel(models.Model):
    """A promotion's uplift model, trained on its randomized holdout (``promotions.uplift.app_data``).

    Two logistic regressions (visitors shown the promotion, visitors it was withheld from) stored as
    numbers, so the web process scores visitors with numpy alone; the latest row per promotion serves.
    """

    promotion = models.ForeignKey(Promotion, models.CASCADE, related_name="uplift_models", verbose_name=_("promotion"))
    created_at = models.DateTimeField(_("trained"), auto_now_add=True)
    n_treated = models.PositiveIntegerField(_("visitors shown"))
    n_control = models.PositiveIntegerField(_("visitors withheld"))
    qini = models.FloatField(_("Qini coefficient (held out)"), null=True, blank=True)
    auuc = models.FloatField(_("AUUC (held out)"), null=True, blank=True)
    feature_names = models.JSONField(_("features"), default=list)
    #: ``promotions.uplift.linear.LinearUplift.to_dict()``: fill values, scaling, both models' weights.
    parameters = models.JSONField(_("parameters"), default=dict)

    class Meta:
        verbose_name = _("promotion uplift model")
        verbose_name_plural = _("promotion uplift models")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["promotion", "created_at"], name="promo_uplift_model_time")]

    def __str__(self) -> str:
        return f"{self.promotion} ({self.created_at:%Y-%m-%d})"


class ItemAssociation(models.Model):
    """Two products bought together more often than chance (``promotions.offers.together``): one
    row per direction, each product's strongest companions only; rebuilt by
    ``manage.py promotions_bought_together``."""

    item_id = models.CharField(_("product id"), max_length=64)
    other_id = models.CharField(_("bought with"), max_length=64)
    together = models.PositiveIntegerField(_("baskets together"))
    lift = models.FloatField(_("lift"), help_text=_("How many times more often than if unrelated."))
    p_value = models.FloatField(_("p-value"))
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("product bought together")
        verbose_name_plural = _("products bought together")
        ordering = ["-lift", "item_id", "other_id"]
        constraints = [models.UniqueConstraint(fields=["item_id", "other_id"], name="promo_association_once")]

    def __str__(self) -> str:
        return f"{self.item_id} + {self.other_id}"
