"""A minimal django-oscar 4.2 shop, built as Oscar's "Building your own shop" guide says, with the
app added exactly as docs/oscar.md tells a shop to (the block between the ``promotions`` markers is
compared with the guide's snippet by tests/oscar/test_guide.py).

``DATABASE_URL`` switches SQLite to PostgreSQL; ``TEST_REDIS_URL`` is the Redis the app uses.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from oscar.defaults import *  # noqa: F403 - Oscar's settings, as its guide starts

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(tempfile.gettempdir()) / "promotions-oscar-project"  # database file, media, thumbnails
SECRET_KEY = "oscar-test-project-" + "k" * 40  # noqa: S105 - a test project's key
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
SITE_ID = 1
ROOT_URLCONF = "tests.oscar_project.urls"
USE_TZ = True
LANGUAGE_CODE = "en-gb"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "oscar.apps.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "oscar.apps.shipping.apps.ShippingConfig",
    "oscar.apps.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "oscar.apps.partner.apps.PartnerConfig",
    "oscar.apps.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "oscar.apps.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "oscar.apps.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "oscar.apps.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "haystack",
    "treebeard",
    "sorl.thumbnail",
    "django_tables2",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]

AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Oscar's checkout mails the customer; the test shop keeps the mail in memory.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_DEFAULT_CURRENCY = "GBP"
CELERY_TASK_ALWAYS_EAGER = True

# --- promotions: begin (docs/oscar.md, "Settings") ---
from promotions.contrib.oscar.dashboard import PROMOTIONS_DASHBOARD_MENU  # noqa: E402
from promotions.schedules import BEAT_SCHEDULE  # noqa: E402

INSTALLED_APPS += ["rest_framework", "promotions.contrib.oscar", "promotions"]
MIDDLEWARE += [
    "promotions.tracking.middleware.TrackingMiddleware",
    "promotions.contrib.oscar.middleware.OscarPromotionsMiddleware",
]
OSCAR_DASHBOARD_NAVIGATION += [PROMOTIONS_DASHBOARD_MENU]  # noqa: F405
PROMOTIONS_PRODUCT_MODEL = "catalogue.Product"
PROMOTIONS = {
    "PRODUCT_ADAPTER": "promotions.contrib.oscar.products.OscarProductAdapter",
    "PRODUCT_VIEW_URL_NAMES": {"catalogue:detail": "pk"},
    "SEARCH_URL_NAMES": ["search:search"],
    "CACHE_TAG_HTML": False,  # the product cards' "add to basket" forms need the request
    "REDIS_URL": os.environ.get("PROMOTIONS_REDIS_URL") or None,
}
REST_FRAMEWORK = {"NUM_PROXIES": 0}  # proxies in front of the shop (behind a load balancer: 1)
CELERY_BEAT_SCHEDULE = {**BEAT_SCHEDULE}
# --- promotions: end ---
