"""docs/oscar.md is followed verbatim: the test project's settings are the guide's snippet, its
templates the guide's overrides; the dashboard menu respects permissions; check --deploy is clean
once the shop's own production settings are right."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import override_settings
from oscar.apps.dashboard.menu import get_nodes

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "oscar.md").read_text()
PROJECT = ROOT / "tests" / "oscar_project"


def without_noqa(text: str) -> list[str]:
    return [re.sub(r"\s+# noqa: [A-Z0-9, ]+$", "", line).rstrip() for line in text.strip().splitlines()]


def test_the_test_projects_settings_are_the_guides_snippet():
    settings_text = (PROJECT / "settings.py").read_text()
    block = re.search(r"# --- promotions: begin[^\n]*\n(.*?)# --- promotions: end", settings_text, re.S).group(1)
    section = GUIDE.split("## Settings", 1)[1].split("\n## ", 1)[0]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert without_noqa(block) == without_noqa(snippet)


@pytest.mark.parametrize("name", ["layout.html", "catalogue/detail.html", "basket/basket.html"])
def test_the_test_projects_templates_are_the_guides(name):
    template = (PROJECT / "templates" / "oscar" / name).read_text().strip()
    assert template in GUIDE


@pytest.mark.django_db
def test_the_dashboard_menu_shows_the_apps_screens_to_staff_allowed_to_see_them(django_user_model):
    def labels(user) -> list[str]:
        return [
            str(child.label)
            for node in get_nodes(user)
            if str(node.label) == "Personalization"
            for child in node.children
        ]

    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    assert labels(staff) == []
    staff.user_permissions.add(Permission.objects.get(codename="view_promotion"))
    staff = django_user_model.objects.get(pk=staff.pk)  # permissions are cached per instance
    assert labels(staff) == ["Promotions"]
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    assert labels(admin) == ["Promotions", "Redemptions", "Experiments", "Models", "Uplift reports", "Events"]
    shopper = django_user_model.objects.create_user("shopper", "shopper@example.com", "pw")
    assert labels(shopper) == []


@pytest.mark.django_db
def test_the_dashboard_entries_open_for_a_superuser(client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(admin)
    for node in get_nodes(admin):
        if str(node.label) == "Personalization":
            assert all(client.get(child.url).status_code == 200 for child in node.children)
            break
    else:
        pytest.fail("no Personalization menu")


PRODUCTION = {
    "DEBUG": False,
    "SECRET_KEY": "k3Y-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
    "ALLOWED_HOSTS": ["shop.example"],
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
}


def test_check_deploy_is_clean_once_the_shops_own_settings_are_right():
    out = StringIO()
    with override_settings(**PRODUCTION):
        call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
    assert "no issues" in out.getvalue()
    with override_settings(**{**PRODUCTION, "SESSION_COOKIE_SECURE": False}):
        call_command("check", deploy=True, stdout=out, stderr=out)  # warnings: the command passes
    assert "promotions.W104" in out.getvalue()
