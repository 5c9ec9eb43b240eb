"""The shop's and the admin's main pages in a real Chromium, at desktop and phone widths, in
English and Chinese: screenshots, an axe-core accessibility check, no English left on the Chinese
pages, and the experiment results page's figures equal to the statistics engine's.

One live server, one data set (``shop_data``) and one browser serve the whole module; each
language has one browser context (its own visitor, consent given, staff signed in), reused at both
widths. Each (language, width) walk visits every page once and keeps what it found; the tests
below assert on it, so a failure lists every page and every problem at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse

from promotions.experiments.stats import inference as stats

from . import shop_data
from .conftest import launch_chromium

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": (1400, 1000), "phone": (390, 844)}
LANGUAGES = ("en", "zh-hans")
# Where axe runs: at both widths (the layout changes) in English, and once in Chinese (the words
# change, not the page's structure): three of the four walks, to keep the suite quick.
AXE_AT = {("en", "desktop"), ("en", "phone"), ("zh-hans", "desktop")}
# Axe's impact levels that fail the test (it also reports "moderate" and "minor" ones).
BLOCKING = ("serious", "critical")
# The mark makes pytest-django create the test database. Each test then runs in a transaction rolled
# back at its end, which leaves the module's data (committed before it) in place.
pytestmark = pytest.mark.django_db
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

# Every visible text of the page, one entry per text node, plus the words on buttons and in
# placeholders: what a reader sees. Hidden elements (display/visibility, zero size) are left out.
VISIBLE_TEXTS = """() => {
  const visible = (element) => {
    for (let e = element; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === 'none' || style.visibility === 'hidden') return false;
    }
    return element.getClientRects().length > 0;
  };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(parent.tagName)) continue;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text && visible(parent)) texts.push(text);
  }
  for (const input of document.querySelectorAll('input[type=submit], input[type=button], input[placeholder]')) {
    const text = (input.type === 'submit' || input.type === 'button') ? input.value : input.placeholder;
    if (text && visible(input)) texts.push(text.trim());
  }
  return texts;
}"""
# The elements that stick out of the window on the right (outermost ones, at most five), when the
# page scrolls sideways; nothing when it does not.
OVERFLOW = """() => {
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
    (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const right = e.getBoundingClientRect().right;
    if (right > width + 1 && !out.some((o) => o.contains(e))) out.push(e);
  }
  return out.slice(0, 5).map((e) => describe(e) + ' to ' + Math.round(e.getBoundingClientRect().right) + 'px');
}"""
# Pairs of labels of one chart (SVG text) whose boxes overlap: one written over the other.
OVERLAPS = """() => {
  const found = [];
  for (const svg of document.querySelectorAll('svg')) {
    const labels = [...svg.querySelectorAll('text')].map((t) => [t.textContent, t.getBoundingClientRect()]);
    labels.forEach(([a, r], i) => labels.slice(i + 1).forEach(([b, s]) => {
      if (Math.min(r.right, s.right) - Math.max(r.left, s.left) > 1 &&
          Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top) > 1) found.push(a + ' / ' + b);
    }));
  }
  return found;
}"""
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n').slice(1, 2)),
  }));
}"""
# Two or more Latin-script words in a row: an English phrase. Single words (a code, a brand,
# an abbreviation such as CSV) pass.
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ \u00a0]+[A-Za-z][A-Za-z'’]*)+")
# Proper names the Chinese pages keep as they are: the data set the demo is built on.
NAMES = ("Online Retail",)
NUMBERS = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


@dataclass
class Walk:
    """What one (language, width) walk found on each page."""

    screenshots: list[Path] = field(default_factory=list)
    violations: dict[str, list[dict]] = field(default_factory=dict)
    english: dict[str, list[str]] = field(default_factory=dict)
    result_rows: dict[str, list[str]] = field(default_factory=dict)
    overlaps: dict[str, list[str]] = field(default_factory=dict)  # chart labels drawn over each other
    overflow: dict[str, list[str]] = field(default_factory=dict)  # what sticks out of the window, if anything


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple[shop_data.Shop, str]]:
    """The data and a live server of its own for the module (pytest-django's ``live_server``
    would empty the database after each test): the database is emptied once, at the end."""
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock():
        data = shop_data.build(tmp_path_factory.mktemp("shop"))
        server = LiveServer("localhost")
        server._live_server_modified_settings.enable()
        try:
            yield data, server.url
        finally:
            server._live_server_modified_settings.disable()
            server.stop()
            connections.close_all()
            for alias in connections:
                call_command("flush", database=alias, interactive=False, verbosity=0)
            shop_data.reset_process_state()


@pytest.fixture(scope="module")
def contexts(shop) -> Iterator[dict]:
    """One browser context per language: a visitor who consented, viewed two products and put one
    in the cart, and who is signed in as staff (the admin pages)."""
    data, base = shop
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}")
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see conftest's page fixture
    try:
        with launch_chromium() as browser:
            made = {}
            for language in LANGUAGES:
                context = browser.new_context(
                    viewport=dict(zip(("width", "height"), WIDTHS["desktop"], strict=True)),
                    user_agent=USER_AGENT,  # headless Chromium says so, and bots are never tracked
                    extra_http_headers={"Accept-Language": language},
                )
                context.set_default_timeout(15_000)
                page = context.new_page()
                prepare_visitor(page, base, data)
                made[language] = page
            yield made
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved
        connections.close_all()


def prepare_visitor(page, base: str, data: shop_data.Shop) -> None:
    page.goto(base + "/")
    page.locator("form[action$='/consent/'] button").first.click()
    page.wait_for_load_state()
    for link in page.locator("a[href^='/product/']").all()[:2]:
        page.goto(base + link.get_attribute("href"))
    page.goto(f"{base}/product/{data.product.stock_code}/")
    page.locator("form[action*='/cart/add/'] button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/cart/"))
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", shop_data.STAFF)
    page.fill("#id_password", shop_data.PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def pages(data: shop_data.Shop) -> dict[str, str]:
    return {
        "admin": reverse("admin:index"),
        "promotions": reverse("admin:promotions_promotion_changelist"),
        "home": "/",
        "category": f"/category/{data.category_slug}/",
        "product": f"/product/{data.product.stock_code}/",
        "cart": "/cart/",
        "experiment-results": reverse("admin:promotions_experiment_results", args=[data.experiment.pk]),
        "lift": reverse("admin:promotions_promotion_lift"),
        "analytics": reverse("admin:promotions_event_analytics"),
        "model-versions": reverse("admin:promotions_modelversion_changelist"),
        "model-version": reverse("admin:promotions_modelversion_change", args=[data.model_version_pk]),
    }


def english_runs(texts: list[str], data: shop_data.Shop) -> list[str]:
    """The English phrases among the texts, once product names and staff-typed names are removed."""
    known = sorted(data.product_texts | data.owner_texts | set(NAMES), key=len, reverse=True)
    found = []
    for text in texts:
        for name in known:
            text = re.sub(re.escape(name), " ", text, flags=re.IGNORECASE)
        found += [run for run in ENGLISH_RUN.findall(text) if not run.isupper()]  # all-caps: a code
    return found


_walks: dict[tuple[str, str], Walk] = {}


@pytest.fixture
def walk(request, shop, contexts, browser_artifacts) -> Walk:
    """Visit every page in the test's language at its width (once per module), keep what was found."""
    language, width = request.param
    if (language, width) in _walks:
        return _walks[(language, width)]
    data, base = shop
    page = contexts[language]
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    found = Walk()
    for name, path in pages(data).items():
        response = page.goto(base + path)
        assert response.status == 200, f"{name}: HTTP {response.status}"
        page.wait_for_load_state("load")
        screenshot = browser_artifacts / f"{name}-{language}-{width}-{connection.vendor}.png"
        page.screenshot(path=str(screenshot), full_page=True)
        found.screenshots.append(screenshot)
        found.overflow[name] = page.evaluate(OVERFLOW)
        found.overlaps[name] = page.evaluate(OVERLAPS)
        if (language, width) in AXE_AT:
            page.add_script_tag(path=str(AXE))
            found.violations[name] = [v for v in page.evaluate(AXE_RUN) if v["impact"] in BLOCKING]
        if language != "en":
            found.english[name] = english_runs(page.evaluate(VISIBLE_TEXTS), data)
        if name == "experiment-results":
            for row in page.locator("tr.variant-row").all():
                cells = [text.strip() for text in row.locator("td").all_inner_texts()]
                found.result_rows[cells[0].split()[0]] = cells
    _walks[(language, width)] = found
    return found


COMBINATIONS = [(language, width) for language in LANGUAGES for width in WIDTHS]
CHINESE = [(language, width) for language, width in COMBINATIONS if language != "en"]
SHOP_PAGES = {"home", "category", "product", "cart"}


def ids(combination: tuple[str, str]) -> str:
    return "-".join(combination)


@pytest.mark.parametrize("walk", COMBINATIONS, ids=ids, indirect=True)
def test_every_page_renders(walk):
    assert len(walk.screenshots) == len(walk.overflow) and all(path.stat().st_size > 5_000 for path in walk.screenshots)


@pytest.mark.parametrize("walk", COMBINATIONS, ids=ids, indirect=True)
def test_no_admin_page_is_wider_than_the_window(walk):
    assert not {name: out for name, out in walk.overflow.items() if out and name not in SHOP_PAGES}


@pytest.mark.parametrize("walk", COMBINATIONS, ids=ids, indirect=True)
def test_no_shop_page_is_wider_than_the_window(walk):
    assert not {name: out for name, out in walk.overflow.items() if out and name in SHOP_PAGES}


@pytest.mark.parametrize("walk", COMBINATIONS, ids=ids, indirect=True)
def test_no_chart_writes_a_label_over_another(walk):
    assert not {name: pairs for name, pairs in walk.overlaps.items() if pairs}


@pytest.mark.parametrize("walk", sorted(AXE_AT), ids=ids, indirect=True)
def test_no_page_has_a_serious_accessibility_violation(walk):
    problems = {name: violations for name, violations in walk.violations.items() if violations}
    assert not problems, "\n".join(
        f"{name}: {v['impact']} {v['id']} ({v['help']}): {v['targets']}"
        for name, violations in problems.items()
        for v in violations
    )


def english_found(walk: Walk, names) -> str:
    return "\n".join(f"{name}: {sorted(set(runs))}" for name, runs in walk.english.items() if runs and name in names)


@pytest.mark.parametrize("walk", CHINESE, ids=ids, indirect=True)
def test_the_chinese_admin_pages_show_no_english_sentence(walk):
    found = english_found(walk, set(walk.english) - SHOP_PAGES)
    assert not found, found


@pytest.mark.parametrize("walk", CHINESE, ids=ids, indirect=True)
def test_the_chinese_shop_pages_show_no_english_sentence(walk):
    found = english_found(walk, SHOP_PAGES)
    assert not found, found


def test_every_admin_list_of_the_app_and_its_main_forms_show_no_english_sentence(shop, contexts):
    """Beyond the walked pages, in Chinese at desktop width (no screenshots): every list of the app's
    admin, the add forms of an experiment and a promotion, and the change form of each."""
    from django.contrib import admin

    data, base = shop
    page = contexts["zh-hans"]
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["desktop"], strict=True)))
    paths = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label == "promotions"
    ]
    paths += [
        reverse("admin:promotions_experiment_add"),
        reverse("admin:promotions_experiment_change", args=[data.experiment.pk]),
        reverse("admin:promotions_promotion_add"),
        reverse("admin:promotions_promotion_change", args=[data.promotion_pk]),
    ]
    found = {}
    for path in paths:
        response = page.goto(base + path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        if runs := english_runs(page.evaluate(VISIBLE_TEXTS), data):
            found[path] = sorted(set(runs))
    assert not found, "\n".join(f"{path}: {runs}" for path, runs in found.items())


def numbers(text: str) -> list[float]:
    return [float(number.replace(",", "")) for number in NUMBERS.findall(text)]


@pytest.mark.parametrize("walk", COMBINATIONS, ids=ids, indirect=True)
def test_the_results_page_shows_the_statistics_engines_figures(walk, shop):
    data, _base = shop
    arms = data.experiment_counts
    comparison = stats.two_proportion_z_test(arms["control"][0], arms["treatment"][0])
    (p_adjusted,) = stats.holm_adjust([float(comparison.p_value)])
    assert sorted(walk.result_rows) == ["control", "treatment"]
    for key, (proportion, revenue) in arms.items():
        cells = walk.result_rows[key]
        assert numbers(cells[2]) == [proportion.n] and numbers(cells[3]) == [proportion.successes]
        assert numbers(cells[4]) == [round(100 * proportion.successes / proportion.n, 2)]
        assert numbers(cells[5]) == [round(float(revenue) / proportion.n, 2)]
    treatment = walk.result_rows["treatment"]
    expected = [comparison.rel_lift, comparison.rel_ci_low, comparison.rel_ci_high]
    shown = numbers(treatment[6]) + numbers(treatment[7])
    assert shown == pytest.approx([round(100 * float(value), 2) for value in expected], abs=0.005001)
    assert numbers(treatment[8]) == pytest.approx([p_adjusted], abs=0.00005001)
