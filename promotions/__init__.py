"""Personalized promotions for Django shops: tracking, recommenders, A/B experiments."""

__version__ = "0.1.0"
