"""The demo shop's settings: an environment variable set to an empty value counts as unset."""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings

PRINT_SETTINGS = (
    "import json, django; django.setup();"
    "from django.conf import settings as s; from django.core.management import call_command;"
    "call_command('check');"
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    " 'cache': s.CACHES['default']['BACKEND'], 'redis': s.PROMOTIONS['REDIS_URL'], 'currency': s.SHOP_CURRENCY}))"
)


def shop_settings(tmp_path, **variables: str) -> dict:
    env = {"DJANGO_SETTINGS_MODULE": "shop_demo.settings", "PATH": "/usr/bin:/bin", "SHOP_VAR_DIR": str(tmp_path)}
    env.update(variables)
    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=settings.BASE_DIR, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_empty_variables_are_the_embedded_defaults(tmp_path):
    empty = shop_settings(
        tmp_path, DATABASE_URL="", CELERY_BROKER_URL="", REDIS_URL=" ", SHOP_CURRENCY="", DJANGO_SECRET_KEY=""
    )
    assert empty == {
        "db": "django.db.backends.sqlite3",
        "name": str(tmp_path / "db.sqlite3"),
        "broker": "filesystem://",
        "eager": True,
        "cache": "django.core.cache.backends.db.DatabaseCache",
        "redis": None,
        "currency": "GBP",
    }
    assert empty == shop_settings(tmp_path)  # the same as leaving them out


def test_set_variables_still_switch_to_the_servers(tmp_path):
    real = shop_settings(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/nowhere",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        SHOP_CURRENCY="EUR",
    )
    assert real["db"] == "django.db.backends.postgresql"
    assert real["broker"] == "redis://127.0.0.1:1/0"
    assert real["eager"] is False
    assert real["currency"] == "EUR"
