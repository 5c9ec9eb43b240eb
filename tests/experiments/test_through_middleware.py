"""``variant_for`` behind the real tracking middleware: Do Not Track and consent decide enrolment."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from promotions.experiments import variant_for
from promotions.experiments.models import Assignment
from promotions.tracking.middleware import TrackingMiddleware
from tests.experiments.factories import BROWSER, make_experiment

pytestmark = pytest.mark.django_db


def serve(**headers) -> str:
    """The variant key a page of the shop would render for a browser sending these headers."""

    def view(request):
        return HttpResponse(variant_for(request, "banner").key)

    request = RequestFactory().get("/shop/", HTTP_USER_AGENT=BROWSER, **headers)
    request.user = AnonymousUser()
    request.session = {}
    request.COOKIES["shop_consent"] = "yes"
    return TrackingMiddleware(view)(request).content.decode()


def test_a_tracked_browser_is_enrolled():
    make_experiment(weights=("0", "1"))
    assert serve() == "v1"
    assert Assignment.objects.get().unit_id.startswith("visitor:")


@pytest.mark.parametrize("header", [{"HTTP_DNT": "1"}, {"HTTP_SEC_GPC": "1"}])
def test_do_not_track_gets_the_control_and_no_assignment(header):
    make_experiment(weights=("0", "1"))
    assert serve(**header) == "control"
    assert not Assignment.objects.exists()
