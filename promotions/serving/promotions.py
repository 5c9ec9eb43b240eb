"""The promotions a visitor sees in a slot, and the best promotion for one product.

``decide`` says who decides (consent, holdout, experiment, bandit, default ranking); this module
carries it out and never raises into a page: a failure anywhere gives the non-personalized list
(eligible promotions by priority) and a structured log line, and if even that fails, nothing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.http import HttpRequest

from ..cards import ProductCard, cards
from ..fallbacks import log_fallback
from ..offers import ranking
from ..offers.figures import STATS_CACHE_KEY
from ..offers.models import Promotion
from ..offers.pricing import Target
from ..offers.service import eligible_promotions
from ..recommenders import Reason
from ..tracking.capture import track
from ..tracking.exposures import record_exposures
from ..tracking.models import EventType
from ..tracking.personcache import SHOWN
from ..training.versions import active_version_id
from ..uplift.serving import uplifts_for_ranking
from ..visitors import segments
from ..visitors.prefetch import store_value, visitor_values
from ..visitors.recent import recent_items
from .bandit import shares_for
from .decide import BANDIT, Decision, decide
from .recommendations import MODEL, Pick, recommendations_for

logger = logging.getLogger("promotions.serving")

STATS_SECONDS = 60.0
#: The visitor's recommendations the ranking looks at for affinity.
INTEREST_DEPTH = 20
#: The depth of the list every visitor gets (kept per process), from which the average visitor's
#: affinity to each target, the ranking's baseline, is read: a shallow list would overstate the
#: baseline of the best sellers' categories.
TYPICAL_DEPTH = 50
PRODUCTS_PER_PROMOTION = 4


#: Why a promotion is shown to this visitor (``promotions.serving.reasons`` words them): it covers
#: an item they just viewed, or one the model picked for them; ``promotion_for``: it applies to
#: the product of the page.
OFFER_VIEWED, OFFER_PICKED, OFFER_ON = "offer_viewed", "offer_picked", "offer_on"
#: The reason of an item the visitor just looked at, in their interests.
VIEWED = "viewed"
#: The reason of a replenishment promotion's products: the visitor's own items, due again.
BUY_AGAIN = Reason("buy_again")


@dataclass(frozen=True)
class ShownPromotion:
    promotion: Promotion
    message: str
    #: Why the promotion is shown (about the promotion, not its products); None when not personalized.
    reason: Reason | None
    products: tuple[ProductCard, ...]
    slot: str
    step: str
    personalized: bool
    propensity: float | None = None
    #: Why each of ``products`` is shown (their own reasons, in the same order); empty: none known.
    product_reasons: tuple[Reason | None, ...] = ()

    @property
    def id(self) -> int:
        return self.promotion.pk

    @property
    def public_code(self) -> str:
        """The promotion's shared coupon code to show (never a single-use one); "" without one."""
        code = self.promotion.codes.filter(single_use=False).order_by("pk").values_list("code", flat=True).first()
        return code or ""

    @property
    def shared_reason(self) -> Reason | None:
        """The reason every product shown shares (the card states it once), else None."""
        reasons = set(self.product_reasons)
        return self.product_reasons[0] if len(self.product_reasons) > 1 and len(reasons) == 1 else None

    @property
    def entries(self) -> list[tuple[ProductCard, Reason | None]]:
        """(card, its reason) for each product shown in the promotion."""
        reasons = self.product_reasons or (None,) * len(self.products)
        return list(zip(self.products, reasons, strict=True))


_stats: tuple[float, dict[str, Any]] | None = None


def promotion_stats() -> dict[str, Any]:
    """``{promotion id (str): {"overall": [n, conversions, revenue, revenue²], "segments": {...}}}``."""
    global _stats
    if _stats is None or time.monotonic() - _stats[0] > STATS_SECONDS:
        try:
            value = cache.get(STATS_CACHE_KEY) or {}
        except Exception:
            log_fallback("stats_unavailable")
            value = {}
        _stats = (time.monotonic(), value)
    return _stats[1]


def forget_stats() -> None:
    global _stats
    _stats = None


def segment_key(request: HttpRequest, interests: list[Pick]) -> str:
    """new/returning x device class x the visitor's top category (from their recent items)."""
    history, _newest = recent_items(request)
    categories = Counter(card.category for card in cards(history).values() if card.category)
    top = categories.most_common(1)[0][0] if categories else ""
    returning = "returning" if segments.is_returning(request) else "new"
    return f"{returning}|{segments.device_class(request)}|{top}"


def _discount_share(promotion: Promotion, price: float) -> float:
    if promotion.kind in (Promotion.Kind.PERCENTAGE, Promotion.Kind.BUNDLE_PERCENT):
        return float(promotion.value) / 100
    if promotion.kind == Promotion.Kind.BUNDLE_PRICE and price > 0:  # a set of typical-price products
        return max(0.0, 1 - float(promotion.value) / (price * max(len(promotion.target_values or ()), 1)))
    if promotion.kind == Promotion.Kind.FIXED_AMOUNT and price > 0:
        return min(float(promotion.value) / price, 1.0)
    if promotion.kind == Promotion.Kind.FIXED_PRICE and price > 0:
        return max(0.0, 1 - float(promotion.value) / price)
    if promotion.kind == Promotion.Kind.BUY_X_GET_Y and promotion.buy_quantity:
        return promotion.get_quantity / (promotion.buy_quantity + promotion.get_quantity)
    return 0.0


def _interest(pick: Pick) -> ranking.Interest:
    card = pick.card
    return ranking.Interest(
        card.id,
        pick.score,
        card.category,
        card.brand,
        float(card.price),
        None if card.cost is None else float(card.cost),
        pick.reason,
    )


#: Recent items folded into the visitor's interests, newest first, each worth this much less than the next.
RECENT_INTERESTS = 10
RECENT_DECAY = 0.8


def _recent_interests(request: HttpRequest, picks: list[Pick]) -> list[ranking.Interest]:
    """What the visitor just looked at is the surest sign of interest (models leave those items out
    of recommendations): newest first, weighted like the best recommendation and decaying."""
    history, _newest = recent_items(request)
    recent = list(reversed(history[-RECENT_INTERESTS:]))
    found = cards(recent)
    top = max((p.score for p in picks), default=1.0) or 1.0
    return [
        ranking.Interest(
            card.id,
            top * RECENT_DECAY**rank,
            card.category,
            card.brand,
            float(card.price),
            None if card.cost is None else float(card.cost),
            Reason(VIEWED, card.id),
        )
        for rank, card in enumerate(found[item] for item in recent if item in found)
    ]


def _reason(interests: tuple[ranking.Interest, ...]) -> Reason | None:
    """Why the promotion is shown: the best of the visitor's interests it covers, a product they
    viewed or one picked for them (the products shown in it may be others: each has its own reason)."""
    if not interests:
        return None
    best = interests[0]
    viewed = best.reason is not None and best.reason.kind == VIEWED
    return Reason(OFFER_VIEWED if viewed else OFFER_PICKED, best.item_id)


def _matching(promotion: Promotion, picks: list[Pick], limit: int) -> list[Pick]:
    target = promotion.target
    return [p for p in picks if target.covers(p.card.id, p.card.category, p.card.brand)][:limit]


def _non_personalized(request: HttpRequest, slot: str, limit: int, step: str) -> list[ShownPromotion]:
    promotions = eligible_promotions(request, slot=slot)[:limit]
    picks = recommendations_for(request, TYPICAL_DEPTH, personalized=False, slot=slot) if promotions else []
    shown = []
    for promotion in promotions:
        matching = _matching(promotion, picks, PRODUCTS_PER_PROMOTION)
        products, reasons = tuple(p.card for p in matching), tuple(p.reason for p in matching)
        shown.append(
            ShownPromotion(promotion, promotion.localized_message, None, products, slot, step, False, None, reasons)
        )
    return shown


def _personalized(
    request: HttpRequest, slot: str, limit: int, decision: Decision, rng: np.random.Generator
) -> list[ShownPromotion]:
    eligible = eligible_promotions(request, slot=slot)
    if not eligible:
        return []
    # The model's list as last computed for this visitor will do: the items they touched since
    # come first in their interests anyway (``_recent_interests``), so the ranking still follows
    # the session on every page, without scoring the catalogue again on each product page.
    picks = recommendations_for(request, INTEREST_DEPTH, slot=slot, model_name=decision.model_name, fresh=False)
    # Only what the model scored for this visitor says something about them; the list every
    # visitor gets (no model yet) would dilute their recent items into the average.
    interests = _recent_interests(request, picks) + [_interest(p) for p in picks if p.source == MODEL]
    typical_picks = recommendations_for(request, TYPICAL_DEPTH, personalized=False, slot=slot)
    # Products shown inside an offer: the visitor's own picks first, then what is popular in its target.
    shown_from = _distinct([*picks, *typical_picks])
    stats = promotion_stats()
    segment = segment_key(request, picks)
    typical_price = float(np.median([i.price for i in interests])) if interests else 0.0
    # What each promotion is ranked by (a variant's {"ranking": ...} decides for the slot), and the
    # visitor's predicted uplifts where that is uplift or blend: nothing is read otherwise.
    signals, uplifts = uplifts_for_ranking(request, eligible, decision.config)
    candidates = []
    for promotion in eligible:
        figures = stats.get(str(promotion.pk), {})
        candidates.append(
            ranking.Candidate(
                promotion.pk,
                promotion.target,
                _discount_share(promotion, typical_price),
                ranking.stats_from(figures.get("overall")),
                ranking.stats_from(figures.get("segments", {}).get(segment)),
                _baseline_affinity(promotion.target, typical_picks),
                uplift=uplifts.get(promotion.pk),
                signal=signals[promotion.pk],
            )
        )
    by_id = {p.pk: p for p in eligible}
    first: list[ShownPromotion] = []
    if decision.step == BANDIT:
        chosen, propensity = _bandit_pick(decision, eligible, rng, segment)
        first = [_shown(by_id[chosen], shown_from, slot, decision, propensity=propensity)]
        candidates = [c for c in candidates if c.promotion_id != chosen]
    ranked = ranking.rank(candidates, interests, rng, limit=limit - len(first))
    return first + [
        _shown(by_id[r.promotion_id], shown_from, slot, decision, reason=_reason(r.interests)) for r in ranked
    ]


#: The average visitor's affinity per target, by the typical picks it was computed from (kept per
#: process: the same list object serves every visitor of a slot until it is read again).
_baselines: dict[int, tuple[list[Pick], dict[Target, float]]] = {}


def _baseline_affinity(target: Target, typical_picks: list[Pick]) -> float:
    entry = _baselines.get(id(typical_picks))
    if entry is None or entry[0] is not typical_picks:
        if len(_baselines) > 64:
            _baselines.clear()
        entry = _baselines[id(typical_picks)] = (typical_picks, {})
    values = entry[1]
    if target not in values:
        values[target] = ranking.baseline_affinity(target, [_interest(p) for p in typical_picks])
    return values[target]


def _distinct(picks: list[Pick]) -> list[Pick]:
    """Each product once, at its first place."""
    seen: set[str] = set()
    return [p for p in picks if not (p.card.id in seen or seen.add(p.card.id))]


def _bandit_pick(
    decision: Decision, eligible: list[Promotion], rng: np.random.Generator, segment: str
) -> tuple[int, float]:
    """The bandit's arm for this visitor by the stored shares (uniform before the first
    re-weighting); a contextual slot uses the shares of the visitor's segment where it has them.
    Returns the arm with the probability it really had, for inverse-propensity estimates."""
    weights = shares_for(decision.slot_config, segment)
    shares = np.array([float(weights.get(str(p.pk), 0.0)) for p in eligible])
    if shares.sum() <= 0:
        shares = np.ones(len(eligible))
    shares = shares / shares.sum()
    index = int(rng.choice(len(eligible), p=shares))
    return eligible[index].pk, float(shares[index])


def _shown(
    promotion: Promotion,
    picks: list[Pick],
    slot: str,
    decision: Decision,
    *,
    reason: Reason | None = None,
    propensity: float | None = None,
) -> ShownPromotion:
    due = getattr(promotion, "replenishment_items", None)
    if due:  # a replenishment promotion shows the visitor's own due items
        found = cards(due[:PRODUCTS_PER_PROMOTION])
        matching = [Pick(found[i], 0.0, BUY_AGAIN) for i in due[:PRODUCTS_PER_PROMOTION] if i in found]
    else:
        matching = _matching(promotion, picks, PRODUCTS_PER_PROMOTION)
    return ShownPromotion(
        promotion,
        promotion.localized_message,
        reason,
        tuple(p.card for p in matching),
        slot,
        decision.step,
        True,
        propensity,
        tuple(p.reason for p in matching),
    )


def personalized_promotions(
    request: HttpRequest, slot: str = "home", limit: int = 3, *, rng: np.random.Generator | None = None
) -> list[ShownPromotion]:
    """What this request's visitor sees in ``slot``; a shown promotion with a frequency cap counts
    as an exposure (the beacon logs what was really seen)."""
    try:
        decision = decide(request, slot)
        if decision.personalized and decision.step != BANDIT:
            # A bandit draws on every page (its propensities must stay true); the ranking's answer
            # is kept for a minute, until the visitor's session or the model changes.
            shown = _cached_or_ranked(request, slot, limit, decision, rng)
        elif decision.personalized:
            shown = _personalized(request, slot, limit, decision, rng or np.random.default_rng())
        else:
            shown = _non_personalized(request, slot, limit, decision.step)
    except Exception:
        logger.exception("promotions: personalized promotions failed in slot %s", slot)
        log_fallback("promotions_failed", slot=slot)
        try:
            shown = _non_personalized(request, slot, limit, "fallback")
        except Exception:
            log_fallback("promotions_unavailable", slot=slot)
            return []
    for item in shown:
        if item.propensity is not None:
            # The bandit's pick and the probability it had: what the unbiased (IPW) estimates need.
            track(request, BANDIT_PICK, promotion_id=item.id, context={"slot": slot, "propensity": item.propensity})
    # Only frequency caps read the counts: no round trip for the others, one for all of these.
    capped = [item.id for item in shown if item.promotion.frequency_cap]
    if capped:
        try:
            record_exposures(request, "promotion", capped)
        except Exception:
            log_fallback("exposure_not_counted", promotion=",".join(map(str, capped)))
    return shown


SHOWN_SECONDS = SHOWN.lifetime
#: The slots' cached answers this process has used: later pages read them with the visitor's
#: other entries, in the page's one round trip.
_shown_names: set[str] = set()
BANDIT_PICK = EventType.BANDIT_PICK


def shown_names() -> set[str]:
    return _shown_names


def _cached_or_ranked(
    request: HttpRequest, slot: str, limit: int, decision: Decision, rng: np.random.Generator | None
) -> list[ShownPromotion]:
    name = SHOWN.name.format(slot=slot, limit=limit)
    _shown_names.add(name)
    history, _newest = recent_items(request)
    eligible_list = eligible_promotions(request, slot=slot)
    variant = getattr(decision.variant, "pk", "")
    profile = _promoted_interests(history, eligible_list)
    signature = f"{active_version_id()}:{profile}:{decision.step}:{variant}"
    cached = visitor_values(request, [name])[name]
    if cached is not None and cached.get("signature") == signature:
        eligible = {p.pk: p for p in eligible_list}
        if all(row[0] in eligible for row in cached["rows"]):
            found = cards(item for row in cached["rows"] for item, _reason in row[2])
            return [
                ShownPromotion(
                    eligible[pk], eligible[pk].localized_message, Reason.from_list(reason),
                    tuple(found[i] for i, _r in items if i in found), slot, decision.step, True, None,
                    tuple(Reason.from_list(r) for i, r in items if i in found),
                )
                for pk, reason, items in cached["rows"]
            ]  # fmt: skip
    shown = _personalized(request, slot, limit, decision, rng or np.random.default_rng())
    value = {"signature": signature, "rows": [_shown_row(s) for s in shown]}
    store_value(request, name, value, SHOWN_SECONDS)
    return shown


def _shown_row(shown: ShownPromotion) -> tuple:
    """A shown promotion as the visitor's cache keeps it: (id, reason, [(item, reason), ...])."""
    items = [(card.id, reason.as_list() if reason else None) for card, reason in shown.entries]
    return (shown.id, shown.reason.as_list() if shown.reason else None, items)


def _promoted_interests(history: list[str], eligible: list[Promotion]) -> str:
    """What of the visitor's recent items bears on the ranking: newest first, each distinct set of
    targeted promotions that one of their last ``RECENT_INTERESTS`` items falls under. The answer is
    ranked again when this changes (the visitor turned to what another promotion covers); items no
    promotion targets, or more of what the same promotions cover, leave it as it is."""
    targeted = [(p.pk, target) for p in eligible if (target := p.target).kind != "all"]
    recent = list(reversed(history[-RECENT_INTERESTS:]))
    found = cards(recent)
    profile: list[tuple[int, ...]] = []
    for item in recent:
        card = found.get(item)
        if card is None:
            continue
        covering = tuple(pk for pk, target in targeted if target.covers(card.id, card.category, card.brand))
        if covering and covering not in profile:
            profile.append(covering)
    return repr(profile)


def promotion_for(request: HttpRequest, card: ProductCard, *, slot: str = "product") -> ShownPromotion | None:
    """The best promotion that applies to this product for this visitor (None if none does)."""
    try:
        applicable = [
            p
            for p in eligible_promotions(request, slot=slot)
            if p.kind != Promotion.Kind.BANNER and p.target.covers(card.id, card.category, card.brand)
        ]
        if not applicable:
            return None
        decision = decide(request, slot)
        best = max(applicable, key=lambda p: (_discount_share(p, float(card.price)), p.priority, -p.pk))
        return ShownPromotion(
            best, best.localized_message, Reason(OFFER_ON, card.id), (card,), slot, decision.step, decision.personalized
        )
    except Exception:
        logger.exception("promotions: promotion_for failed")
        log_fallback("promotion_for_failed", product=card.id)
        return None
