"""Serving: what a visitor sees (promotions, recommendations), who decides it, and what it earns."""


def forget_process_caches() -> None:
    """Empty this process's serving caches (live promotions, product cards, slot settings and rules,
    statistics, trending lists, uplift models, tag HTML): the next render reads everything afresh."""
    from ..offers.service import forget_live_promotions
    from ..templatetags.promotions import forget_fragments
    from ..uplift import serving as uplift
    from . import cards, decide, merchandising, promotions, recommendations

    forget_live_promotions()
    cards.forget_cards()
    decide.forget_slot_configs()
    merchandising.forget_rules()
    promotions.forget_stats()
    recommendations.forget_trending()
    uplift.forget_uplift_models()
    forget_fragments()
