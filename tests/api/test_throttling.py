"""The beacon throttles: per signed visitor, and per client address without keeping the address."""

from django.test import RequestFactory

from promotions.api.throttling import AddressRateThrottle, VisitorRateThrottle


def test_address_is_hashed_in_the_cache_key():
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.7")
    key = AddressRateThrottle().get_cache_key(request, view=None)
    assert "203.0.113.7" not in key and key.startswith("throttle_promotions_events_address_")
    other = AddressRateThrottle().get_cache_key(RequestFactory().post("/", REMOTE_ADDR="203.0.113.8"), view=None)
    assert key != other


def test_visitor_throttle_keys_by_the_signed_visitor_id():
    request = RequestFactory().post("/")
    request.visitor_id = "f" * 32
    assert VisitorRateThrottle().get_cache_key(request, view=None) == "throttle_promotions_events_" + "f" * 32
