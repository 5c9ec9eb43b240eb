"""Behavior tracking: visitor identity and the events every model learns from."""
