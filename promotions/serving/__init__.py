"""Serving: what a visitor sees (promotions, recommendations), who decides it, and what it earns.

Its process caches are emptied with the others by ``promotions.registry.forget_all()``.
"""
