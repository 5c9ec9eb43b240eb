"""The demo shop's settings for the load and fault benchmarks.

Every simulated visitor comes from 127.0.0.1, so the beacon's per-address throttle (600 a
minute, meant to stop one client minting cookies) would refuse most of a busy test's beacons.
It is lifted here; the per-visitor throttle stays as in production.
"""

from shop_demo.settings import *  # noqa: F403
from shop_demo.settings import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "promotions_events_address": "100000/min"},
}
