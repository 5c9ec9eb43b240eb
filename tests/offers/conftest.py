from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.utils import timezone

from promotions.offers.models import Promotion
from promotions.registry import forget_all
from promotions.tracking.capture import TrackingState


@pytest.fixture(autouse=True)
def fresh_serving_caches():
    forget_all()
    yield
    forget_all()


def make_promotion(**fields) -> Promotion:
    values = {
        "name": "Ten off",
        "message": "10% off everything",
        "status": Promotion.Status.ACTIVE,
        "value": Decimal(10),
    }
    values.update(fields)
    return Promotion.objects.create(**values)


def visitor_request(visitor_id="a" * 32, user=None, agent="Mozilla/5.0", allowed=True):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/", HTTP_USER_AGENT=agent)
    request.user = user or AnonymousUser()
    request.promotions = TrackingState(allowed=allowed, visitor_id=visitor_id if allowed else None)
    request.visitor_id = request.promotions.visitor_id
    request.session = {}
    return request


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def yesterday(now):
    return now - timedelta(days=1)
