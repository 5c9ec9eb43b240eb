"""Promotions the shop runs: models, eligibility, pricing, budgets and coupon codes."""
