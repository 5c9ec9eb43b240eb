"""System checks: each tells a shop owner what is misconfigured and how to fix it.

Ids are stable and listed in docs/configuration.md. No check opens a network connection: URLs are
checked for syntax only.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.utils.module_loading import import_string

from .api.origins import parse_origin
from .conf import DEFAULTS, PRODUCT_FIELD_NAMES, REQUIRED_PRODUCT_FIELDS, app_settings

TRACKING_MIDDLEWARE = "promotions.tracking.middleware.TrackingMiddleware"
# The tracking middleware reads the session and request.user, so it must come after these.
MIDDLEWARE_BEFORE_TRACKING = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
)
REDIS_SCHEMES = {"redis", "rediss", "unix"}
BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory", "sqs", "sqla+sqlite"}


@register(Tags.compatibility)
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list:
    middleware = list(getattr(settings, "MIDDLEWARE", []) or [])
    if TRACKING_MIDDLEWARE not in middleware:
        return [
            Error(
                "The promotions tracking middleware is not installed.",
                hint=f"Add '{TRACKING_MIDDLEWARE}' to MIDDLEWARE, after AuthenticationMiddleware.",
                id="promotions.E001",
            )
        ]
    position = middleware.index(TRACKING_MIDDLEWARE)
    errors = []
    for required in MIDDLEWARE_BEFORE_TRACKING:
        if required not in middleware[:position]:
            errors.append(
                Error(
                    f"'{TRACKING_MIDDLEWARE}' must come after '{required}' in MIDDLEWARE.",
                    hint="It reads the session and the signed-in user, which those middleware set.",
                    id="promotions.E002",
                )
            )
    return errors


def _check_url(value: Any, name: str, schemes: set[str], error_id: str) -> list:
    if value in (None, ""):
        return []
    problem = None
    if not isinstance(value, str):
        problem = "it is not a string"
    else:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as exc:
            problem = str(exc)
        else:
            if parts.scheme not in schemes:
                problem = f"the scheme {parts.scheme!r} is not one of {', '.join(sorted(schemes))}"
            elif parts.scheme in {"redis", "rediss", "amqp", "amqps", "pyamqp"} and not parts.hostname:
                problem = "it names no host"
            elif parts.scheme in {"redis", "rediss"} and parts.path.strip("/") and not parts.path.strip("/").isdigit():
                problem = "the database number after the host must be an integer"
    if problem is None:
        return []
    return [Error(f"{name} is malformed: {problem}.", hint=f"Current value: {value!r}.", id=error_id)]


@register(Tags.compatibility)
def check_service_urls(app_configs: Any = None, **kwargs: Any) -> list:
    broker = getattr(settings, "CELERY_BROKER_URL", None)
    errors = _check_url(broker, "CELERY_BROKER_URL", BROKER_SCHEMES, "promotions.E005")
    user = app_settings.user_settings
    errors += _check_url(user.get("REDIS_URL"), "PROMOTIONS['REDIS_URL']", REDIS_SCHEMES, "promotions.E006")
    return errors


#: Keys holding counts, sizes or durations: positive integers.
POSITIVE_INTEGER_KEYS = (
    "VISITOR_COOKIE_AGE",
    "RETENTION_DAYS",
    "FLUSH_BATCH_SIZE",
    "BEACON_MAX_EVENTS",
    "BEACON_MAX_BYTES",
    "PRECOMPUTE_ACTIVE_DAYS",
    "PRECOMPUTE_TOP_N",
    "BUY_AGAIN_LOOKBACK_DAYS",
    "REPLENISHMENT_HORIZON_DAYS",
    "BOUGHT_TOGETHER_DAYS",
    "BOUGHT_TOGETHER_MIN_BASKETS",
    "ATTRIBUTION_CLICK_DAYS",
    "ATTRIBUTION_EXPOSURE_DAYS",
)


#: Keys holding a share of traffic or a relative effect: numbers in [0, 1).
SHARE_KEYS = ("EXPERIMENT_PLANNER_MDE", "HOLDOUT_SHARE", "BOUGHT_TOGETHER_MAX_P_VALUE")
#: Keys holding a strength from 0 (off) to 1 inclusive.
STRENGTH_KEYS = ("RECOMMENDATION_DIVERSITY",)


def _expected_type(name: str) -> tuple[type, ...]:
    default = DEFAULTS[name]
    if name in {"REDIS_URL", "CONSENT_CHECK"}:
        return (str, type(None))
    if name == "TRAINING_DWELL_SECONDS":
        return (float, int, type(None))
    if name == "TRAINING_RATING_POWER":
        return (float, int)
    if name in POSITIVE_INTEGER_KEYS:
        return (int,)
    if name in SHARE_KEYS or name in STRENGTH_KEYS:
        return (float, int)
    return (type(default),)


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list:
    raw = getattr(settings, "PROMOTIONS", {})
    if not isinstance(raw, dict):
        return [Error("PROMOTIONS must be a dict.", hint=f"It is a {type(raw).__name__}.", id="promotions.E010")]
    errors = []
    for key in raw:
        if key not in DEFAULTS:
            errors.append(
                Error(
                    f"PROMOTIONS has an unknown key {key!r}.",
                    hint="Known keys: " + ", ".join(sorted(DEFAULTS)) + ". Check the spelling.",
                    id="promotions.E007",
                )
            )
    for key, value in raw.items():
        if key in DEFAULTS and not isinstance(value, _expected_type(key)):
            errors.append(
                Error(
                    f"PROMOTIONS[{key!r}] must be of type {_expected_type(key)[0].__name__}, "
                    f"not {type(value).__name__}.",
                    id="promotions.E008",
                )
            )
    for key in POSITIVE_INTEGER_KEYS:
        if isinstance(raw.get(key), int) and raw[key] <= 0:
            errors.append(Error(f"PROMOTIONS[{key!r}] must be a positive integer.", id="promotions.E008"))
    for key in SHARE_KEYS:
        value = raw.get(key)
        if isinstance(value, (int, float)) and not 0 <= value < 1:
            errors.append(Error(f"PROMOTIONS[{key!r}] must be a number in [0, 1).", id="promotions.E008"))
    dwell = raw.get("TRAINING_DWELL_SECONDS")
    if isinstance(dwell, (int, float)) and dwell <= 0:
        errors.append(Error("PROMOTIONS['TRAINING_DWELL_SECONDS'] must be positive or None.", id="promotions.E008"))
    for key in STRENGTH_KEYS:
        value = raw.get(key)
        if isinstance(value, (int, float)) and not 0 <= value <= 1:
            errors.append(Error(f"PROMOTIONS[{key!r}] must be a number from 0 to 1.", id="promotions.E008"))
    errors += _check_training(raw)
    errors += _check_callables_and_patterns(raw)
    if isinstance(raw.get("PRODUCT_FIELDS"), dict):
        unknown = sorted(set(raw["PRODUCT_FIELDS"]) - set(PRODUCT_FIELD_NAMES))
        if unknown:
            errors.append(
                Error(
                    f"PROMOTIONS['PRODUCT_FIELDS'] has unknown entries: {', '.join(unknown)}.",
                    hint="Known entries: " + ", ".join(PRODUCT_FIELD_NAMES) + ".",
                    id="promotions.E007",
                )
            )
    try:
        import_string(app_settings.PRODUCT_ADAPTER)
    except ImportError as exc:
        errors.append(
            Error(
                f"PROMOTIONS['PRODUCT_ADAPTER'] cannot be imported: {exc}.",
                hint="Name a class path such as 'promotions.products.ProductAdapter'.",
                id="promotions.E009",
            )
        )
    return errors


def _check_training(raw: dict) -> list:
    from .recommenders import MODELS
    from .recommenders.threads import resolve_threads

    errors = []
    # TRAINING_MODELS must name at least one model; SERVED_MODELS may be empty.
    for key, may_be_empty in (("TRAINING_MODELS", False), ("SERVED_MODELS", True)):
        if not isinstance(raw.get(key), list):
            continue
        unknown = [name for name in raw[key] if name not in MODELS]
        if unknown or not (raw[key] or may_be_empty):
            errors.append(
                Error(
                    f"PROMOTIONS[{key!r}] names unknown models: {', '.join(map(str, unknown)) or '(none)'}.",
                    hint="Known models: " + ", ".join(MODELS) + ".",
                    id="promotions.E008",
                )
            )
    weights = raw.get("TRAINING_EVENT_WEIGHTS")
    if isinstance(weights, dict) and not all(
        isinstance(value, int | float) and not isinstance(value, bool) and value >= 0 for value in weights.values()
    ):
        errors.append(
            Error("PROMOTIONS['TRAINING_EVENT_WEIGHTS'] values must be non-negative numbers.", id="promotions.E008")
        )
    threads = raw.get("TRAINING_THREADS")
    try:
        resolve_threads(threads, in_worker=False)
    except ValueError as error:
        errors.append(Error(f"PROMOTIONS['TRAINING_THREADS']: {error}.", id="promotions.E008"))
    return errors


def _check_callables_and_patterns(raw: dict) -> list:
    errors = []
    if isinstance(raw.get("CONSENT_CHECK"), str):
        try:
            if not callable(import_string(raw["CONSENT_CHECK"])):
                raise ImportError("it is not callable")
        except ImportError as exc:
            errors.append(Error(f"PROMOTIONS['CONSENT_CHECK'] cannot be used: {exc}.", id="promotions.E011"))
    if isinstance(raw.get("SEGMENTS"), dict):
        for name, path in raw["SEGMENTS"].items():
            try:
                if not isinstance(path, str) or not callable(import_string(path)):
                    raise ImportError("it is not the dotted path of a callable")
            except ImportError as exc:
                errors.append(
                    Error(
                        f"PROMOTIONS['SEGMENTS'][{name!r}] cannot be used: {exc}.",
                        hint="Name a callable(request) -> bool by its dotted path.",
                        id="promotions.E013",
                    )
                )
    if isinstance(raw.get("BOT_USER_AGENT_PATTERN"), str):
        try:
            re.compile(raw["BOT_USER_AGENT_PATTERN"])
        except re.error as exc:
            errors.append(
                Error(
                    f"PROMOTIONS['BOT_USER_AGENT_PATTERN'] is not a valid regular expression: {exc}.",
                    id="promotions.E012",
                )
            )
    if isinstance(raw.get("ALLOWED_ORIGINS"), list):
        for origin in raw["ALLOWED_ORIGINS"]:
            if not isinstance(origin, str) or parse_origin(origin, wildcard=True) is None:
                errors.append(
                    Error(
                        f"PROMOTIONS['ALLOWED_ORIGINS'] has {origin!r}, which is not an origin.",
                        hint='Write scheme, host and port only: "https://www.shop.example", "http://127.0.0.1:8000".',
                        id="promotions.E014",
                    )
                )
    return errors


def _model_has_path(model: Any, path: str) -> bool:
    """True when a dotted path starts at a field, property or method of the model."""
    head, _, rest = path.partition(".")
    if head == "pk":
        return not rest
    try:
        field = model._meta.get_field(head)
    except FieldDoesNotExist:
        return hasattr(model, head)
    if not rest:
        return True
    related = field.related_model
    return related is not None and _model_has_path(related, rest)


@register(Tags.models)
def check_product_model(app_configs: Any = None, **kwargs: Any) -> list:
    from django.apps import apps

    name = app_settings.product_model
    if not name:
        return [
            Error(
                "PROMOTIONS_PRODUCT_MODEL is not set.",
                hint="Name the shop's product model, e.g. PROMOTIONS_PRODUCT_MODEL = 'shop.Product'.",
                id="promotions.E003",
            )
        ]
    try:
        model = apps.get_model(name)
    except (ValueError, LookupError):
        return [
            Error(
                f"PROMOTIONS_PRODUCT_MODEL refers to {name!r}, which is not an installed model.",
                hint="Use the form 'app_label.ModelName' of an app in INSTALLED_APPS.",
                id="promotions.E003",
            )
        ]
    try:
        adapter_class = import_string(app_settings.PRODUCT_ADAPTER)
    except ImportError:
        return []  # promotions.E009 says so
    if not getattr(adapter_class, "uses_product_fields", True):
        return check_product_query()
    errors = []
    fields = app_settings.PRODUCT_FIELDS if isinstance(app_settings.PRODUCT_FIELDS, dict) else {}
    for key in REQUIRED_PRODUCT_FIELDS:
        if not fields.get(key):
            errors.append(
                Error(
                    f"PROMOTIONS['PRODUCT_FIELDS'][{key!r}] must name an attribute of {name}.",
                    id="promotions.E004",
                )
            )
    for key, path in fields.items():
        if key in PRODUCT_FIELD_NAMES and path and not _model_has_path(model, path):
            errors.append(
                Error(
                    f"The product model {name} has no attribute {path!r} (PROMOTIONS['PRODUCT_FIELDS'][{key!r}]).",
                    hint="Point the entry at a field or property of the product model, or set it to None.",
                    id="promotions.E004",
                )
            )
    if not fields.get("available"):
        errors.append(
            Warning(
                "PROMOTIONS['PRODUCT_FIELDS']['available'] is not set: every product counts as in stock.",
                hint="Name the product's availability field so that unavailable products are never shown.",
                id="promotions.W001",
            )
        )
    return errors or check_product_query()


def check_product_query() -> list:
    """Read one product the way serving does (the adapter's own query, then each attribute), so a
    path that only fails at run time (``categories.name`` through a many-to-many, a property that
    raises) is reported here with the path that fails. Nothing is checked while the table is empty
    or not created yet (before ``migrate``)."""
    from django.db import DatabaseError, transaction

    from .products import get_adapter, resolve_path

    adapter = get_adapter()
    try:
        with transaction.atomic():  # a failing query must not break the caller's transaction
            first = adapter.model._default_manager.order_by("pk").first()
    except Exception:  # no database, no table yet (before migrate), no access: nothing to read
        return []
    if first is None:
        return []
    errors = []
    try:
        with transaction.atomic():
            product = adapter.get_by_ids([adapter.get_id(first)]).get(adapter.get_id(first), first)
    except DatabaseError:  # a column the models have and the database not yet: migrate is what fixes it
        return []
    except Exception as exc:
        paths = ", ".join(adapter.related_paths()) or "(none)"
        return [
            Error(
                f"The product adapter's query fails: {type(exc).__name__}: {exc}.",
                hint=f"It loads the relations of these PRODUCT_FIELDS paths: {paths}. A path through a many-to-many "
                "relation or a property cannot be loaded that way: point the entry at a field, or write an adapter.",
                id="promotions.E023",
            )
        ]
    readers = [(f"PROMOTIONS['PRODUCT_FIELDS'][{key!r}] = {path!r}", path) for key, path in _field_paths(adapter)]
    readers += [(f"{type(adapter).__name__}.{method}()", method) for method in ("info", "get_url", "get_image_url")]
    for label, path in readers:
        try:
            if path in ("info", "get_url", "get_image_url"):
                getattr(adapter, path)(product)
            else:
                resolve_path(product, path)
        except Exception as exc:
            errors.append(
                Error(
                    f"{label} fails on product {adapter.get_id(first)!r}: {type(exc).__name__}: {exc}.",
                    hint="Fix the path or the adapter: serving reads every product this way.",
                    id="promotions.E023",
                )
            )
    return errors


def _field_paths(adapter: Any) -> list[tuple[str, str]]:
    if not getattr(adapter, "uses_product_fields", True):
        return []
    return [(key, path) for key, path in adapter.fields.items() if key in PRODUCT_FIELD_NAMES and path]


def _url_patterns(resolver: Any, prefix: str = "") -> dict[str, set[str]]:
    """Every named URL ("namespace:name") and the keyword arguments its pattern captures."""
    from django.urls import URLPattern, URLResolver

    found: dict[str, set[str]] = {}
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            for name, kwargs in _url_patterns(entry, namespace).items():
                found.setdefault(name, set()).update(kwargs | set(entry.pattern.regex.groupindex))
        elif isinstance(entry, URLPattern) and entry.name:
            found.setdefault(prefix + entry.name, set()).update(entry.pattern.regex.groupindex)
    return found


@register(Tags.urls)
def check_url_names(app_configs: Any = None, **kwargs: Any) -> list:
    """The URL names of PRODUCT_VIEW_URL_NAMES and SEARCH_URL_NAMES exist, and product pages capture
    the keyword argument named for them: otherwise no view or search is ever recorded."""
    from django.urls import get_resolver

    views = app_settings.PRODUCT_VIEW_URL_NAMES if isinstance(app_settings.PRODUCT_VIEW_URL_NAMES, dict) else {}
    searches = app_settings.SEARCH_URL_NAMES if isinstance(app_settings.SEARCH_URL_NAMES, list | tuple) else []
    if not views and not searches:
        return []
    try:
        patterns = _url_patterns(get_resolver())
    except Exception:  # a broken URLconf: Django's own URL checks report it
        return []
    errors = []
    for setting, names in (("PRODUCT_VIEW_URL_NAMES", list(views)), ("SEARCH_URL_NAMES", list(searches))):
        for name in names:
            if name not in patterns:
                errors.append(
                    Error(
                        f"PROMOTIONS[{setting!r}] names the URL {name!r}, which does not exist.",
                        hint="Use the name as reverse() takes it, with its namespace (e.g. 'catalogue:detail').",
                        id="promotions.E021",
                    )
                )
    for name, kwarg in views.items():
        if name in patterns and kwarg not in patterns[name]:
            errors.append(
                Error(
                    f"The URL {name!r} captures no {kwarg!r} (PROMOTIONS['PRODUCT_VIEW_URL_NAMES'][{name!r}]).",
                    hint=f"It captures: {', '.join(sorted(patterns[name])) or 'nothing'}.",
                    id="promotions.E022",
                )
            )
    return errors


@register(Tags.compatibility)
def check_eligibility_rules(app_configs: Any = None, **kwargs: Any) -> list:
    """Every promotion eligibility rule named in settings must import as a callable."""
    rules = (
        getattr(settings, "PROMOTIONS", {}).get("ELIGIBILITY_RULES", {})
        if isinstance(getattr(settings, "PROMOTIONS", {}), dict)
        else {}
    )
    errors = []
    for name, path in rules.items() if isinstance(rules, dict) else ():
        try:
            if not callable(import_string(path)):
                raise ImportError("it is not callable")
        except (ImportError, TypeError, ValueError) as exc:
            errors.append(
                Error(
                    f"PROMOTIONS['ELIGIBILITY_RULES'][{name!r}] cannot be used: {exc}.",
                    hint="Name a callable(request, promotion) -> bool by its dotted path.",
                    id="promotions.E020",
                )
            )
    return errors


@register(Tags.database)
def check_servable_models(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list:
    """With ``--database``: each model an experiment variant or ``SERVED_MODELS`` names but that no
    training stored (serving gives best sellers there, never another model)."""
    if not databases:
        return []
    from django.db import transaction

    from .training.servable import missing_models

    try:
        with transaction.atomic():  # a failing query must not break the caller's transaction (migrate's)
            missing = missing_models()
    except Exception:  # no database, no table yet (before migrate)
        return []
    return [
        Warning(
            f"Model {name!r} is named by {'; '.join(where)} but has no trained version.",
            hint="Run a training (manage.py promotions_train): it stores every model of the servable set. "
            "Until then that variant serves best sellers.",
            id="promotions.W002",
        )
        for name, where in missing.items()
    ]
