"""The app's promotions as Oscar offers: one site offer per promotion, with these condition and
benefit classes (Oscar's "custom offers": proxy models named by ``proxy_class``).

The condition's ``value`` holds the promotion's id. Both ask ``offers.priced_basket``, which prices
the basket once per request through ``promotions.checkout`` (the visitor's own promotions, codes,
budgets): the condition holds when the promotion is among the applied ones, and the benefit gives
exactly its per-line amounts, so Oscar's basket, order and e-mails show the discount shown.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from oscar.core.loading import get_class, get_model

Benefit = get_model("offer", "Benefit")
Condition = get_model("offer", "Condition")
BasketDiscount, ZERO_DISCOUNT = (
    get_class("offer.results", "BasketDiscount"),
    get_class("offer.results", "ZERO_DISCOUNT"),
)


class PromotionCondition(Condition):
    """Holds when the visitor gets the promotion ``value`` on this basket."""

    class Meta:
        proxy = True
        verbose_name = _("Personalized promotion condition")

    @property
    def name(self) -> str:
        return str(_("The visitor gets personalized promotion #%(id)s") % {"id": self.promotion_id})

    @property
    def description(self) -> str:
        return self.name

    @property
    def promotion_id(self) -> int:
        return int(self.value or 0)

    def is_satisfied(self, offer: Any, basket: Any) -> bool:
        from .offers import applied_discount

        return applied_discount(basket, self.promotion_id) is not None


class PromotionBenefit(Benefit):
    """The promotion's discount on each line, as ``promotions.checkout`` priced it."""

    class Meta:
        proxy = True
        verbose_name = _("Personalized promotion discount")

    @property
    def name(self) -> str:
        return str(_("Personalized promotion discount"))

    @property
    def description(self) -> str:
        return self.name

    def apply(self, basket: Any, condition: Any, offer: Any, **kwargs: Any) -> Any:
        from .offers import apply_promotion

        amount = apply_promotion(basket, int(condition.value or 0), offer)
        return BasketDiscount(amount) if amount > 0 else ZERO_DISCOUNT

    def apply_deferred(self, basket: Any, order: Any, application: Any) -> None:
        # Called by Oscar's OrderCreator inside the order's transaction: the place to redeem.
        from .offers import redeem_for_order

        redeem_for_order(basket, order)
        return None
