"""The demo shop's settings plus a bare DRF endpoint: the baseline of api_read.py."""

from shop_demo.settings import *  # noqa: F403

ROOT_URLCONF = "api_read_urls"
