"""The app's settings, read from one ``PROMOTIONS`` dict in the project's settings.

Use ``from promotions.conf import app_settings`` and read attributes
(``app_settings.VISITOR_COOKIE_NAME``). A key missing from ``PROMOTIONS`` takes its
default below; unknown keys and values of the wrong type are reported by the system
checks (``promotions.E007``, ``promotions.E008``). Changing ``PROMOTIONS`` in tests
(``override_settings``) is picked up at once: ``registry.forget_all`` (connected to
``setting_changed`` in ``ready()``) reloads these settings with every other process cache.

The swappable product model is the one top-level setting, as Django's swappable models
require: ``PROMOTIONS_PRODUCT_MODEL = "app_label.ModelName"``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

#: Every key of ``PROMOTIONS``, its default and what it means. The configuration
#: reference (docs/configuration.md) is generated from this table by docs/gen_settings.py.
DEFAULTS: dict[str, Any] = {
    # Dotted path of the class that reads the shop's products (promotions.products.ProductAdapter).
    "PRODUCT_ADAPTER": "promotions.products.ProductAdapter",
    # Where the default adapter finds each product attribute: an attribute or a dotted path
    # ("category.name"); None where the shop has no such attribute (cost, brand...).
    "PRODUCT_FIELDS": {
        "id": "pk",
        "title": "title",
        "category": "category",
        "brand": None,
        "price": "price",
        "cost": None,
        "available": None,
        "text": "description",
    },
    # Redis URL for the event buffer and shared counters; None keeps everything in the database.
    "REDIS_URL": None,
    # The first-party signed cookie that holds the anonymous visitor id.
    "VISITOR_COOKIE_NAME": "promotions_vid",
    "VISITOR_COOKIE_AGE": 365 * 24 * 3600,
    # Paths never tracked (static, media and admin are added from the project's settings).
    "IGNORED_PATH_PREFIXES": ["/favicon.ico", "/robots.txt"],
    # Product page views: URL name -> the view keyword argument that holds the product id.
    # A view can instead be marked with @promotions.tracking.tracks_product_view("kwarg").
    "PRODUCT_VIEW_URL_NAMES": {},
    # Searches: URL names of search pages and the query parameter holding the search terms.
    "SEARCH_URL_NAMES": [],
    "SEARCH_QUERY_PARAM": "q",
    # User agents matching this regular expression (case-insensitive) are never tracked.
    "BOT_USER_AGENT_PATTERN": (
        r"bot|crawl|spider|slurp|archiver|facebookexternalhit|headless|lighthouse|preview|monitor"
        r"|curl|wget|python-requests|python-urllib|httpclient|go-http-client|java/|okhttp|scrapy"
    ),
    # Honour the browser's Do Not Track (DNT: 1) and Global Privacy Control (Sec-GPC: 1) signals.
    "HONOR_DO_NOT_TRACK": True,
    # Dotted path of a callable(request) -> bool telling whether the visitor consented to
    # tracking; None means no consent is required.
    "CONSENT_CHECK": None,
    # Events older than this many days are purged by a periodic task.
    "RETENTION_DAYS": 365,
    # Trained model artifacts kept: the newest this many versions' files (the active one always);
    # older ones are deleted by the same periodic purge task (their rows and figures stay).
    "MODEL_ARTIFACTS_KEEP": 5,
    # The Redis stream that buffers events between a request and the flush task.
    "EVENT_STREAM": "promotions:events",
    # Events read and inserted per batch by the flush task.
    "FLUSH_BATCH_SIZE": 5000,
    # The beacon endpoint (POST /promotions/api/events/): the most events one batch may hold,
    # and the largest request body in bytes (a larger one is refused with 413 before parsing).
    "BEACON_MAX_EVENTS": 50,
    "BEACON_MAX_BYTES": 16384,
    # Origins besides the shop's own whose pages may post to the beacon ("https://www.shop.example",
    # "https://*.shop.example" for its subdomains): scheme, host and port must match exactly.
    # CSRF_TRUSTED_ORIGINS count too, and so do the other ALLOWED_HOSTS on the request's scheme and port.
    "ALLOWED_ORIGINS": [],
    # Training (promotions.training): the models fitted and compared, simplest first (names of
    # promotions.recommenders.MODELS; the deep models join by name when they land). Popularity is
    # always scored as the baseline, so a model that loses to it is never chosen.
    "TRAINING_MODELS": ["popularity", "trending", "item_knn", "ease", "hybrid"],
    # Models every training run also fits and stores, each as its own version, so that they can be
    # served by name; the validation winner and the models experiment variants name
    # ({"model": "item_knn"}) are stored anyway (see promotions.training.servable).
    "SERVED_MODELS": [],
    # A folder for the deep models' TensorBoard logs (one sub-folder per model version, written
    # while training runs); "" writes none. The per-epoch loss is kept with the version anyway.
    "TRAINING_LOG_DIR": "",
    # The event types training learns from and what each counts for (purchases say more than views).
    "TRAINING_EVENT_WEIGHTS": {"view": 1.0, "add_to_cart": 3.0, "purchase": 5.0, "rating": 2.0},
    # Signals in the training weights, neutral by default: a rating r (1-5) counts (r / 3) ** power
    # times; with TRAINING_DWELL_SECONDS = D, dwell events (d seconds on a product page) become rows
    # weighing as a view times 2d / (d + D). Training keeps them only where the validation windows
    # score the chosen model better with them than without (both figures in the version's metrics).
    "TRAINING_RATING_POWER": 0.0,
    "TRAINING_DWELL_SECONDS": None,
    # BLAS/OpenMP threads for fitting and scoring (threadpoolctl): None is automatic, one thread
    # in a Celery worker process (its siblings use the other cores; more threads oversubscribe
    # them and made fits 5-8x slower) and every core for a management command run alone; a
    # positive integer is used everywhere. The count used is kept in each model version's metrics.
    "TRAINING_THREADS": None,
    # Top-N lists are precomputed after each training for visitors active in the last this-many days.
    "PRECOMPUTE_ACTIVE_DAYS": 7,
    "PRECOMPUTE_TOP_N": 20,
    # Category diversity of recommendation lists (live and precomputed), 0 (off) to 1: each list is
    # re-ranked by MMR over the product adapter's categories from 5x as many of the model's items.
    "RECOMMENDATION_DIVERSITY": 0.0,
    # Buy again ({% buy_again %}, replenishment promotions): the customer's purchases of the last
    # this-many days are read, and an item is due when its next purchase falls within the horizon.
    "BUY_AGAIN_LOOKBACK_DAYS": 365,
    "REPLENISHMENT_HORIZON_DAYS": 7,
    # Bought together ({% bought_together %}, bundle suggestions; manage.py promotions_bought_together):
    # the purchases of the last this-many days; a pair is kept when it shares at least
    # MIN_BASKETS baskets and chance alone would give that many with at most MAX_P_VALUE.
    "BOUGHT_TOGETHER_DAYS": 365,
    "BOUGHT_TOGETHER_MIN_BASKETS": 3,
    "BOUGHT_TOGETHER_MAX_P_VALUE": 0.01,
    # Experiments: the query parameter with which staff force a variant for QA
    # (?promotions_variant=<experiment key>:<variant key>; forced views are never counted), and the
    # relative lift the results page's planner sizes experiments for.
    "EXPERIMENT_FORCE_PARAMETER": "promotions_variant",
    "EXPERIMENT_PLANNER_MDE": 0.05,
    # A recommender experiment's winner (variants naming models) may become the active model from
    # its results page. With this on, a periodic task does it by itself for running experiments
    # analysed with the sequential test once that test decides (logged, reversible in the admin).
    "PROMOTE_ONLINE_WINNERS": False,
    # The global holdout: this share of people (by deterministic hashing) sees non-personalized
    # promotions and is enrolled in no experiment, so the app's own lift is always measured.
    # Changing the salt reshuffles who is held out; 0 turns the holdout off.
    "HOLDOUT_SHARE": 0.05,
    "HOLDOUT_SALT": "promotions-holdout",
    # Operations (promotions.ops): besides staff users, who may read /promotions/health/ and
    # /promotions/metrics/: requests with "Authorization: Bearer <OPS_TOKEN>" ("" turns the token
    # off) and clients in OPS_ALLOWED_NETWORKS (CIDR strings, e.g. the load balancer's subnet).
    "OPS_TOKEN": "",
    "OPS_ALLOWED_NETWORKS": [],
    # The health check fails when the active model is older than this many seconds (two daily
    # trainings missed), or when the event buffer holds more events, or its oldest one has waited
    # longer (seconds), than these limits: the flush task runs every 10 s, so either means it stalls.
    "OPS_MODEL_MAX_AGE": 2 * 24 * 3600,
    "OPS_BACKLOG_MAX_EVENTS": 100_000,
    "OPS_BACKLOG_MAX_AGE": 300,
    # Promotion slots a shop may use in templates ({% personalized_promotions slot="home" %}) and
    # in the admin; add the shop's own.
    "SLOTS": ["home", "category", "product", "cart"],
    # Keep each template tag's HTML per process, keyed by what it shows (the promotions, products,
    # reasons, slot and language): tag templates then see only their own values. Set False when
    # an overriding tag template reads anything else (the request, the user).
    "CACHE_TAG_HTML": True,
    # Uplift models learned from promotions' uplift holdouts: a promotion needs this many visitors
    # shown and this many withheld before its model is trained, from the assignments of the last
    # this-many days; a visitor's features come from their most recent this-many events (at
    # training and at serving alike).
    "UPLIFT_MIN_PER_ARM": 200,
    "UPLIFT_TRAINING_DAYS": 90,
    "UPLIFT_HISTORY_EVENTS": 200,
    # Extra eligibility rules promotions can name: rule name -> dotted path of a
    # callable(request, promotion) -> bool.
    "ELIGIBILITY_RULES": {},
    # Last-touch attribution of purchases to promotions and recommendations: a click within this
    # many days, else an exposure within this many days.
    "ATTRIBUTION_CLICK_DAYS": 7,
    "ATTRIBUTION_EXPOSURE_DAYS": 1,
    # Experiment targeting by country: the request.META key of the header in which a CDN or proxy
    # puts the visitor's ISO 3166-1 alpha-2 country code (Cloudflare's CF-IPCountry by default;
    # the app never looks addresses up itself). A visitor without the header matches no country.
    "COUNTRY_HEADER": "HTTP_CF_IPCOUNTRY",
    # Shop-registered visitor segments that experiments can target ({"segments": ["name", ...]}):
    # segment name -> dotted path of a callable(request) -> bool.
    "SEGMENTS": {},
    # The shop's currency, shown with every price and amount (a code such as "GBP", which is
    # written as its symbol "£2.95", or a symbol); "" shows amounts alone.
    "CURRENCY": "",
    # Dotted path of a callable(category name) -> the name to show in the active language, for
    # reasons such as "Trending in <category>"; "" shows the name the product adapter reports.
    "CATEGORY_NAME": "",
    # The analytics page shows a rate only when its denominator (visitors, impressions) reaches
    # this many; below it a dash and the sample size: 1 purchase of 2 visitors is no 50% conversion.
    "ANALYTICS_MIN_SAMPLE": 30,
    # E-mail campaigns: the shop's address (scheme and host, "https://shop.example") that the links of
    # a command's export start with; "" makes the command ask for --base-url (the admin's export uses
    # the address the admin is served under).
    "CAMPAIGN_BASE_URL": "",
    # Where a campaign's promotion link lands: a path of the shop or a full URL (the promotion
    # shows there in its slots).
    "CAMPAIGN_LANDING_URL": "/",
}

#: Keys whose value names product attributes; every one must be known to the adapter.
PRODUCT_FIELD_NAMES = ("id", "title", "category", "brand", "price", "cost", "available", "text")
#: Product attributes without which nothing can be recommended.
REQUIRED_PRODUCT_FIELDS = ("id", "title", "price")

#: Settings that name code by dotted path (a string, or a dict of names to strings), resolved by
#: ``app_settings.imported()`` like DRF's ``IMPORT_STRINGS``: one cache, emptied when settings change.
IMPORT_STRINGS = frozenset({"PRODUCT_ADAPTER", "CONSENT_CHECK", "ELIGIBILITY_RULES", "SEGMENTS", "CATEGORY_NAME"})


class AppSettings:
    """Attribute access to ``PROMOTIONS`` merged over ``DEFAULTS``, cached until settings change."""

    def __init__(self, defaults: dict[str, Any]):
        self.defaults = defaults
        self._cache: dict[str, Any] = {}
        self._imported: dict[tuple[str, str | None], Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        value = getattr(settings, "PROMOTIONS", {})
        return value if isinstance(value, dict) else {}

    @property
    def product_model(self) -> str:
        return getattr(settings, "PROMOTIONS_PRODUCT_MODEL", "")

    def __getattr__(self, name: str) -> Any:
        if name not in self.defaults:
            raise AttributeError(f"Unknown PROMOTIONS setting: {name!r}")
        if name not in self._cache:
            value = self.user_settings.get(name, self.defaults[name])
            if name == "PRODUCT_FIELDS":
                # Missing entries keep their defaults, so a shop names only what differs.
                value = {**self.defaults[name], **(value if isinstance(value, dict) else {})}
            self._cache[name] = value
        return self._cache[name]

    def imported(self, name: str, key: str | None = None) -> Any:
        """The object the dotted-path setting ``name`` names (for a dict setting, its entry ``key``),
        or None where it names nothing. Imported once until settings change; an import error
        propagates and is not cached."""
        if name not in IMPORT_STRINGS:
            raise AttributeError(f"{name!r} is not a dotted-path PROMOTIONS setting")
        if (name, key) not in self._imported:
            value = getattr(self, name)
            path = value.get(key) if key is not None else value
            self._imported[(name, key)] = import_string(path) if path else None
        return self._imported[(name, key)]

    def reload(self) -> None:
        self._cache.clear()
        self._imported.clear()


app_settings = AppSettings(DEFAULTS)


def forget_settings() -> None:
    """Read ``PROMOTIONS`` afresh on the next access (one of ``registry.PROCESS_CACHES``)."""
    app_settings.reload()
