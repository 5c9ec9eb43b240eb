"""The demo shop: a Django project and app showing the promotions app at work."""

from .celery import app as celery_app

__all__ = ["celery_app"]
