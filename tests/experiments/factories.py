"""Experiments and requests as the service sees them, built without the middleware."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from promotions.experiments.models import Experiment, Variant
from promotions.tracking.capture import TrackingState

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def make_experiment(key: str = "banner", status: str = "running", weights=("0.5", "0.5"), **fields) -> Experiment:
    experiment = Experiment.objects.create(key=key, name=key.title(), status=status, **fields)
    for index, weight in enumerate(weights):
        Variant.objects.create(
            experiment=experiment,
            key="control" if index == 0 else f"v{index}",
            weight=Decimal(weight),
            is_control=index == 0,
            config={"strategy": f"s{index}"},
        )
    return experiment


def make_request(visitor_id: str | None = "v" * 32, user=None, allowed: bool = True, query: str = ""):
    request = RequestFactory().get("/" + (f"?{query}" if query else ""), HTTP_USER_AGENT=BROWSER)
    request.user = user or AnonymousUser()
    request.visitor_id = visitor_id if allowed else None
    request.promotions = TrackingState(allowed=allowed, visitor_id=request.visitor_id)
    return request
