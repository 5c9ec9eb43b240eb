"""Which promotions a shopper may get, and what a cart costs with them.

The live promotions are read once per ``LIVE_CACHE_SECONDS`` per process (and at once after a
promotion is saved in this process), so rendering promotions costs no query on most pages; a
checkout re-checks everything under lock (``promotions.checkout.redeem``), so a few seconds of staleness can
never over-spend a budget.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from django.http import HttpRequest

from ..conf import app_settings
from ..fallbacks import log_fallback
from ..tracking.exposures import exposure_count, exposure_name
from ..visitors import segments
from ..visitors.prefetch import visitor_values
from . import replenish
from .models import Promotion

logger = logging.getLogger(__name__)
#: Filters that take back eligible promotions from a visitor, ``(request, promotions, slot) ->
#: promotions`` (the uplift holdout). Filled in ``PromotionsConfig.ready()``: the serving layer
#: plugs in here, so this module imports nothing above it.
WITHHOLDERS: list[Callable[[HttpRequest, list[Promotion], str | None], list[Promotion]]] = []
LIVE_CACHE_SECONDS = 10.0
EligibilityRule = Callable[[HttpRequest, Promotion], bool]

_live: tuple[float, list[Promotion]] | None = None
_live_lock = threading.Lock()


def forget_live_promotions(*args, **kwargs) -> None:
    """Receiver of Promotion saves and deletes: the next read reloads the live list."""
    global _live
    _live = None


def live_promotions() -> list[Promotion]:
    """Active promotions inside their schedule, highest priority first, with their stacking sets."""
    global _live
    cached = _live
    now = time.monotonic()
    if cached is not None and now - cached[0] < LIVE_CACHE_SECONDS:
        return cached[1]
    with _live_lock:
        promotions = load_live_promotions()
        _live = (now, promotions)
    # Schedules end between reloads: filter by time on every read.
    return promotions


def load_live_promotions() -> list[Promotion]:
    """The live promotions read from the database now (no cache), with their stacking sets."""
    promotions = list(Promotion.objects.live().prefetch_related("stacks_with"))
    for promotion in promotions:
        promotion.stacking_ids = frozenset(other.pk for other in promotion.stacks_with.all())
    return promotions


def live_promotions_stamp() -> float:
    """When the live promotions in use were read (changes whenever they are read again)."""
    live_promotions()
    cached = _live
    return cached[0] if cached is not None else 0.0


def in_schedule(promotion: Promotion) -> bool:
    from django.utils import timezone

    now = timezone.now()
    return (promotion.starts_at is None or promotion.starts_at <= now) and (
        promotion.ends_at is None or promotion.ends_at > now
    )


@dataclass(frozen=True)
class Shopper:
    """What eligibility looks at, read once from the request."""

    visitor_id: str | None
    user_id: int | None
    returning: bool
    tracked: bool
    #: Today's exposure counts of capped promotions, when read in advance (one round trip for all).
    exposures: dict[int, int] | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Shopper:
        state = getattr(request, "promotions", None)
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        return cls(
            visitor_id=state.visitor_id if state is not None else None,
            user_id=user.pk if signed_in else None,
            returning=segments.is_returning(request),
            tracked=bool(state is not None and state.allowed),
        )


def is_eligible(
    promotion: Promotion,
    shopper: Shopper,
    request: HttpRequest | None = None,
    *,
    slot: str | None = None,
    cart_value: Decimal | None = None,
    for_display: bool = True,
) -> bool:
    """Whether the shopper may see (``for_display``) or use the promotion now.

    The minimum cart value is checked only when a cart value is given; the frequency cap only for
    display (a promotion seen often enough is not shown again today, but still applies at checkout).
    """
    if not in_schedule(promotion) or promotion.budget_exhausted:
        return False
    if slot is not None and promotion.slots and slot not in promotion.slots:
        return False
    if promotion.signed_in_only and shopper.user_id is None:
        return False
    if promotion.audience == Promotion.Audience.NEW and shopper.returning:
        return False
    if promotion.audience == Promotion.Audience.RETURNING and not shopper.returning:
        return False
    if cart_value is not None and promotion.min_cart_value is not None and cart_value < promotion.min_cart_value:
        return False
    if for_display and promotion.frequency_cap and shopper.visitor_id and shopper.tracked:
        try:
            if shopper.exposures is not None and promotion.pk in shopper.exposures:
                seen = shopper.exposures[promotion.pk]
            else:
                seen = exposure_count(shopper.visitor_id, "promotion", promotion.pk)
        except Exception:  # the cache is down: today's count is unknown, the promotion may be shown
            log_fallback("frequency_cap_unknown", promotion=promotion.pk)
            seen = 0
        if seen >= promotion.frequency_cap:
            return False
    for name in promotion.rules or ():
        rule = app_settings.imported("ELIGIBILITY_RULES", name)
        # An unknown rule name (removed from settings) keeps the promotion away: safer than showing it.
        if rule is None or request is None or not rule(request, promotion):
            return False
    return True


def eligible_promotions(request: HttpRequest, *, slot: str | None = None) -> list[Promotion]:
    """The live promotions this request's shopper may see in ``slot`` (coupon-only ones included:
    their message invites the code), less those their uplift holdout withholds from this visitor
    (``uplift.serving``: they still apply at checkout); worked out once per request and slot."""
    memo = request.__dict__.setdefault("_promotions_eligible", {})
    if slot not in memo:
        eligible = _eligible(request, slot)
        for withhold in WITHHOLDERS:
            eligible = withhold(request, eligible, slot)
        memo[slot] = eligible
    return memo[slot]


def _eligible(request: HttpRequest, slot: str | None) -> list[Promotion]:
    shopper = Shopper.from_request(request)
    live = live_promotions()
    capped = [p.pk for p in live if p.frequency_cap]
    if capped and shopper.visitor_id and shopper.tracked:
        # Read with the page's other per-visitor entries (``capped_names``); with the cache down
        # every count reads as 0: unknown, so capped promotions may be shown.
        found = visitor_values(request, [exposure_name("promotion", pk) for pk in capped])
        shopper = replace(shopper, exposures={pk: int(found[exposure_name("promotion", pk)] or 0) for pk in capped})
    eligible = []
    for promotion in live:
        try:
            if is_eligible(promotion, shopper, request, slot=slot):
                eligible.append(promotion)
        except Exception:  # one bad row (a rule that raises, malformed JSON) must not hide the others
            logger.exception("promotions: promotion %s could not be checked; it is not shown", promotion.pk)
            log_fallback("promotion_skipped", promotion=promotion.pk)
    if any(p.target_kind == Promotion.TargetKind.DUE for p in eligible):
        # Replenishment promotions: shown with the visitor's due items, not at all without any.
        try:
            visitor_id = shopper.visitor_id if shopper.tracked else None
            eligible = replenish.personalize(eligible, visitor_id, shopper.user_id, keep_empty=False)
        except Exception:
            log_fallback("replenishment_unavailable")
            eligible = [p for p in eligible if p.target_kind != Promotion.TargetKind.DUE]
    return eligible


def capped_names() -> list[str]:
    return [exposure_name("promotion", p.pk) for p in live_promotions() if p.frequency_cap]
