"""Settings of the demo shop.

Every service is optional: with no environment variable set, the shop runs on embedded
defaults (an SQLite file, a cache in a database table, Celery on kombu's filesystem transport
with an embedded worker started by ``manage.py demo``). Environment variables switch
each part to a real server:

``DATABASE_URL``        e.g. ``postgres://postgres@127.0.0.1:5432/promotions``
``REDIS_URL``           e.g. ``redis://127.0.0.1:6379/0`` (cache and event buffer)
``CELERY_BROKER_URL``   e.g. ``redis://127.0.0.1:6379/1`` (real broker and workers)
``DJANGO_SECRET_KEY``, ``DJANGO_DEBUG``, ``DJANGO_ALLOWED_HOSTS``
``DJANGO_HTTPS``        ``1`` behind HTTPS: secure cookies, redirect, HSTS
``DJANGO_ADMINS``       comma-separated addresses mailed each server error (``DJANGO_SERVER_EMAIL``,
                        ``DJANGO_EMAIL_HOST``, ``DJANGO_EMAIL_PORT`` say from where and through what)
``DJANGO_NUM_PROXIES``  proxies in front of the shop (default 0)
``PROMOTIONS_OPS_TOKEN`` bearer token for /promotions/health/ and /promotions/metrics/
``SHOP_DATASETS_DIR``   folder holding ``online-retail/`` (default ``../shared/datasets``)

A variable set to an empty value counts as unset (``DATABASE_URL=`` is SQLite, ``CELERY_BROKER_URL=``
the embedded worker).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from promotions.schedules import BEAT_SCHEDULE as PROMOTIONS_BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent


def _env(name: str, default: str | None = None) -> str | None:
    """The environment variable's value; an empty (or blank) one counts as unset, so
    ``DATABASE_URL=`` means the default database rather than a broken one."""
    value = os.environ.get(name, "").strip()
    return value if value else default


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


VAR_DIR = Path(_env("SHOP_VAR_DIR") or BASE_DIR / "var")


def _local_secret_key() -> str:
    """A random key made once per checkout in ``var/secret_key`` (mode 0600), for local runs and tests.

    Its ``django-insecure-`` prefix makes ``manage.py check --deploy`` fail on it: production sets
    DJANGO_SECRET_KEY, the same on every server. Linked into place, so concurrent first runs agree.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        draft = VAR_DIR / f"secret_key.{os.getpid()}"
        draft.touch(mode=0o600)
        draft.write_text("django-insecure-" + get_random_secret_key())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: use its key
        finally:
            draft.unlink()
    return path.read_text().strip()


# DEBUG only when the environment asks for it; the secret key comes from the environment
# (locally, without it, from var/secret_key). `manage.py check --deploy` fails on unsafe values.
DEBUG = _env_bool("DJANGO_DEBUG", False)
SECRET_KEY = _env("DJANGO_SECRET_KEY") or _local_secret_key()
ALLOWED_HOSTS = _env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
# Behind HTTPS (DJANGO_HTTPS=1): cookies travel only over TLS, plain HTTP is redirected, HSTS for a
# year. Off by default because the demo serves plain HTTP on 127.0.0.1.
HTTPS = _env_bool("DJANGO_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
# Proxies in front of the shop (a TLS-terminating load balancer: 1). They set X-Forwarded-For and
# X-Forwarded-Proto; with none, both headers come from the client and are not trusted.
NUM_PROXIES = int(_env("DJANGO_NUM_PROXIES", "0"))
if NUM_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    # The API schema's staff pages (Swagger UI, Redoc), their files served locally.
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "promotions",
    "shop_demo",
]

MIDDLEWARE = [
    # First: a NUL in the path or query string is a 400 before any database query sees it.
    "promotions.ops.middleware.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "promotions.tracking.middleware.TrackingMiddleware",
    # Last, as django-axes asks: turns its lockout signal into the "too many attempts" page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shop_demo.urls"
WSGI_APPLICATION = "shop_demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop_demo.context_processors.shop",
            ],
        },
    },
]

DATABASE_URL = _env("DATABASE_URL")
if DATABASE_URL is None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # home of the SQLite file
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=60,
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A shop keeps serving when Redis is down: cache misses instead of errors.
            "OPTIONS": {"IGNORE_EXCEPTIONS": True},
        }
    }
else:
    # A database table rather than process memory: precomputed recommendations written by the
    # worker, exposure counts and throttles must be seen by every process of the shop.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "shop_cache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Sign-in throttling (django-axes) for the shop's sign-in and /admin/login/: after 5 failed
# passwords for one username from one client address, that pair is locked out for 15 minutes
# (429, a page saying for how long, Retry-After); a success resets the count. Attempts are kept in
# the database (works on SQLite and PostgreSQL) until the cool-off ends; successful sign-ins are not
# logged. `manage.py axes_reset` lifts every lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out client before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_CALLABLE = "shop_demo.accounts.locked_out"
# The client address as the beacon's throttle sees it: X-Forwarded-For only from DJANGO_NUM_PROXIES proxies.
AXES_CLIENT_IP_CALLABLE = "shop_demo.accounts.client_address"

LOGIN_URL = "shop:login"
LOGIN_REDIRECT_URL = "shop:home"
LOGOUT_REDIRECT_URL = "shop:home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "shop_demo" / "locale"]
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Trained model artifacts are stored through Django's storage API (shared by all web servers
# when it is a shared volume or an object store backend).
MEDIA_URL = "media/"
MEDIA_ROOT = Path(_env("SHOP_MEDIA_ROOT") or VAR_DIR / "media")

# --- Celery ------------------------------------------------------------------------
# With CELERY_BROKER_URL set, tasks go to that broker and real workers run them. Without
# it, request-triggered tasks run eagerly in the caller, and periodic work is sent by an
# embedded beat to an embedded worker over kombu's filesystem transport (``manage.py demo``
# starts both), so training never runs inside a web process.
CELERY_BROKER_URL = _env("CELERY_BROKER_URL", "filesystem://")
# The embedded worker turns eager mode off for itself, so beat's tasks go through the queue.
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", _env("CELERY_BROKER_URL") is None)
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)  # the transport expects its folder to exist
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_BEAT_SCHEDULE = {**PROMOTIONS_BEAT_SCHEDULE}
if _env("PROMOTIONS_FLUSH_INTERVAL"):  # seconds between buffer flushes (tests shorten it)
    CELERY_BEAT_SCHEDULE["promotions-flush-events"] = {
        **CELERY_BEAT_SCHEDULE["promotions-flush-events"],
        "schedule": float(_env("PROMOTIONS_FLUSH_INTERVAL")),
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE

# --- Shop and promotions -----------------------------------------------------------
SHOP_CURRENCY = _env("SHOP_CURRENCY", "GBP")
SHOP_DATASETS_DIR = Path(_env("SHOP_DATASETS_DIR") or BASE_DIR.parent / "shared" / "datasets")

PROMOTIONS_PRODUCT_MODEL = "shop_demo.Product"
PROMOTIONS = {
    "REDIS_URL": REDIS_URL or None,
    "PRODUCT_VIEW_URL_NAMES": {"shop:product": "stock_code"},
    "SEARCH_URL_NAMES": ["shop:search"],
    # The demo asks for consent with a banner; nothing is tracked until the visitor accepts.
    "CONSENT_CHECK": "shop_demo.consent.has_consent",
    # Prices and amounts (shop pages, promotion cards, the admin's analytics) in the shop's currency.
    "CURRENCY": SHOP_CURRENCY,
    # Reasons name a category in the page's language ("Trending in 蜡烛与灯饰").
    "CATEGORY_NAME": "shop_demo.catalog.names.category_name",
    "PRODUCT_FIELDS": {
        "id": "stock_code",
        "title": "title",
        "category": "category.name",
        "brand": "brand.name",
        "price": "price",
        "cost": None,
        "available": "in_stock",
        "text": "description",
    },
}

# The health and metrics endpoints (/promotions/health/, /promotions/metrics/): staff, or this token.
PROMOTIONS["OPS_TOKEN"] = _env("PROMOTIONS_OPS_TOKEN", "")

# Errors reach someone with DEBUG off: Django's request errors (a 500's traceback) and warnings
# (4xx) go to stderr, where gunicorn and systemd collect them; errors are also mailed to ADMINS
# when DJANGO_ADMINS names any ("ops@shop.example,dev@shop.example"; sent through EMAIL_HOST).
ADMINS = [(address, address) for address in map(str.strip, _env("DJANGO_ADMINS", "").split(",")) if address]
SERVER_EMAIL = _env("DJANGO_SERVER_EMAIL") or "root@localhost"
EMAIL_HOST = _env("DJANGO_EMAIL_HOST") or "localhost"
EMAIL_PORT = int(_env("DJANGO_EMAIL_PORT") or 25)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "WARNING"},
        # A request with a Host header not in ALLOWED_HOSTS is a 400 that bots send all day: logged, not mailed.
        "django.security.DisallowedHost": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "promotions": {"handlers": ["console"], "level": "INFO"},
    },
}

# --- REST framework ------------------------------------------------------------------
# The beacon endpoint (POST /promotions/api/events/) is throttled per signed visitor id: a page
# sends a batch every few seconds at most, so 120 requests a minute leaves room for a busy tab.
# Per client address, 600 a minute stops a client minting fresh cookies to lift that limit.
REST_FRAMEWORK = {
    "DEFAULT_THROTTLE_RATES": {"promotions_events": "120/min", "promotions_events_address": "600/min"},
    # The client address of the per-address throttle: without it DRF trusts X-Forwarded-For as sent.
    "NUM_PROXIES": NUM_PROXIES,
}
