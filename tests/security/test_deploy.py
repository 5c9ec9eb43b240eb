"""Production settings: DEBUG off and the key from the environment, and `check --deploy` failing on unsafe values."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from promotions.ops.checks import check_deployment
from shop_demo import settings as shop_settings

SAFE = {
    "DEBUG": False,
    "SECRET_KEY": "k3Y-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "ALLOWED_HOSTS": ["shop.example"],
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "REST_FRAMEWORK": {**shop_settings.REST_FRAMEWORK, "NUM_PROXIES": 1},
}


def ids(**changes) -> list[str]:
    with override_settings(**{**SAFE, **changes}):
        return sorted(error.id for error in check_deployment())


def test_a_safe_configuration_passes():
    assert ids() == []


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"DEBUG": True}, "promotions.W101"),
        ({"SECRET_KEY": "short"}, "promotions.W102"),
        ({"SECRET_KEY": "a" * 60}, "promotions.W102"),
        ({"SECRET_KEY": "django-insecure-" + "x1y2z3" * 10}, "promotions.W102"),
        ({"ALLOWED_HOSTS": ["*"]}, "promotions.W103"),
        ({"ALLOWED_HOSTS": []}, "promotions.W103"),
        ({"SESSION_COOKIE_SECURE": False}, "promotions.W104"),
        ({"CSRF_COOKIE_SECURE": False}, "promotions.W104"),
        ({"REST_FRAMEWORK": {"DEFAULT_THROTTLE_RATES": {}}}, "promotions.E105"),
        ({"PROMOTIONS": {"OPS_TOKEN": "too-short"}}, "promotions.E106"),
        ({"PROMOTIONS": {"OPS_ALLOWED_NETWORKS": ["0.0.0.0/0"]}}, "promotions.E106"),
        ({"PROMOTIONS": {"OPS_ALLOWED_NETWORKS": ["not a network"]}}, "promotions.E106"),
    ],
)
def test_each_unsafe_setting_is_reported(changes, expected):
    assert ids(**changes) == [expected]


def levels(**changes) -> dict[str, str]:
    with override_settings(**{**SAFE, **changes}):
        return {error.id: type(error).__name__ for error in check_deployment()}


def test_the_shops_own_settings_are_warnings_and_the_apps_own_safety_is_an_error():
    shop = levels(DEBUG=True, SECRET_KEY="short", ALLOWED_HOSTS=["*"], SESSION_COOKIE_SECURE=False)
    assert shop == dict.fromkeys(
        ["promotions.W101", "promotions.W102", "promotions.W103", "promotions.W104"], "Warning"
    )
    app = levels(REST_FRAMEWORK={}, PROMOTIONS={"OPS_TOKEN": "too-short"})
    assert app == dict.fromkeys(["promotions.E105", "promotions.E106"], "Error")


def test_check_deploy_warns_on_the_local_defaults_and_fails_at_warning_level():
    # The test settings are the local defaults: a generated development key, plain-HTTP cookies.
    out = StringIO()
    call_command("check", deploy=True, stdout=out, stderr=out)
    assert "promotions.W102" in out.getvalue() and "promotions.W104" in out.getvalue()
    with pytest.raises(SystemCheckError) as failure:
        call_command("check", deploy=True, fail_level="WARNING", stdout=StringIO())
    assert "promotions.W102" in str(failure.value)


def settings_in_a_fresh_process(tmp_path: Path, **env: str) -> list[str]:
    code = "from shop_demo import settings as s; print(s.DEBUG); print(s.SECRET_KEY); print(s.NUM_PROXIES)"
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SHOP_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "SHOP_VAR_DIR": str(tmp_path), **env},
        cwd=Path(shop_settings.BASE_DIR),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.split()


def test_debug_is_off_and_the_key_is_a_local_random_one_unless_the_environment_says_otherwise(tmp_path):
    debug, key, proxies = settings_in_a_fresh_process(tmp_path)
    assert debug == "False" and proxies == "0"
    assert key.startswith("django-insecure-") and len(key) > 60
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert settings_in_a_fresh_process(tmp_path)[1] == key  # kept: sessions survive a restart
    assert settings_in_a_fresh_process(tmp_path / "other")[1] != key  # random per checkout, not in the code
    debug, key, proxies = settings_in_a_fresh_process(
        tmp_path, DJANGO_DEBUG="1", DJANGO_SECRET_KEY="from-the-environment", DJANGO_NUM_PROXIES="1"
    )
    assert (debug, key, proxies) == ("True", "from-the-environment", "1")
