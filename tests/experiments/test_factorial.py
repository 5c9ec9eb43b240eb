"""Multivariate experiments: factors typed as text, full-factorial variants, and the admin that makes them."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone

from promotions.experiments.models import Assignment, Experiment
from promotions.experiments.stats.assignment import factorial_variants
from promotions.experiments.stats.factorial import factorial_design, parse_factors
from tests.experiments.factories import make_experiment
from tests.experiments.test_admin import ADD_URL, form_data

DESIGN = "model: item_knn=50, hybrid=50\ntemplate: cards=33.3, list=33.3, grid=33.4"


def test_parse_factors_reads_percent_weights_and_equal_splits():
    assert parse_factors("color: red=12.5, blue=87.5\n\n size: s, m, l") == {
        "color": {"red": Fraction(1, 8), "blue": Fraction(7, 8)},
        "size": {"s": Fraction(1, 3), "m": Fraction(1, 3), "l": Fraction(1, 3)},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give at least one factor"),
        ("color red=50, blue=50", "Line 1: write it as 'factor: level=weight, level=weight'."),
        ("color: red=50, blue=40", "Line 1: the weights of 'color' sum to 90%, not 100%."),
        ("a: x, y\ncolor: red=50, blue", "Line 2: give a weight to every level of 'color', or to none"),
        ("color: red=half, blue=50", "Line 1, level 'red': the weight 'half' is not a number."),
        ("color: red=-10, blue=110", "Line 1, level 'red': the weight '-10' must be a number of percent >= 0."),
        ("color: red", "Line 1: the factor 'color' needs at least two levels."),
        ("color: red, red", "Line 1: the level 'red' appears twice."),
        ("a: x, y\na: x, y", "Line 2: the factor 'a' appears twice."),
        ("co-lor: red, blue", "Line 1: the factor 'co-lor' must be letters, digits or underscores."),
        ("color: red|x, blue", "Line 1: the level 'red|x' must be letters, digits or underscores."),
    ],
)
def test_parse_errors_say_what_and_where(text, message):
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        parse_factors(text)


def test_design_is_the_full_factorial_with_product_weights_and_first_levels_as_control():
    factors = parse_factors(DESIGN)
    design = factorial_design(factors)
    specs = factorial_variants(factors)
    assert [variant.name for variant in design.variants] == [spec.key for spec in specs]
    assert len(design.variants) == 6
    assert design.variants[0].key == "model-item_knn--template-cards"
    assert design.variants[0].levels == {"model": "item_knn", "template": "cards"}
    assert [variant.is_control for variant in design.variants] == [True] + [False] * 5
    for variant, spec in zip(design.variants, specs, strict=True):
        assert float(variant.weight) == pytest.approx(spec.weight, abs=1e-12)  # 0.5 x 0.333 fits 4 decimals
    assert design.rounding < 1e-12 and sum(variant.weight for variant in design.variants) == 1


def test_weights_needing_more_decimals_are_rounded_to_sum_exactly_to_one():
    design = factorial_design(parse_factors("a: x, y, z\nb: p=30, q=70"))
    weights = [variant.weight for variant in design.variants]
    assert sum(weights) == Decimal(1) and all(weight.as_tuple().exponent >= -4 for weight in weights)
    exact = [Fraction(1, 3) * share for _level in "xyz" for share in (Fraction(3, 10), Fraction(7, 10))]
    deviations = [abs(Fraction(weight) - share) for weight, share in zip(weights, exact, strict=True)]
    assert max(deviations) < Fraction(1, 10**4)
    assert design.rounding == pytest.approx(float(max(deviations)))


def test_too_many_combinations_or_too_long_keys_are_refused():
    with pytest.raises(ValueError, match="make 81 combinations; at most 64"):
        factorial_design(parse_factors("\n".join(f"f{index}: a, b, c" for index in range(4))))
    with pytest.raises(ValueError, match="longer than 64 characters"):
        factorial_design(parse_factors(f"{'f' * 40}: a, b\n{'g' * 30}: c, d"))


@pytest.mark.django_db
def test_admin_generates_the_variants_from_factors(admin_client):
    data = form_data() | {"factors": DESIGN, "variants-MIN_NUM_FORMS": "0"}
    response = admin_client.post(ADD_URL, data, follow=True)
    assert response.redirect_chain, response.content.decode()[:3000]
    experiment = Experiment.objects.get()
    variants = list(experiment.variants.order_by("pk"))
    expected = factorial_design(parse_factors(DESIGN)).variants
    assert [(variant.key, variant.weight, variant.is_control) for variant in variants] == [
        (variant.key, variant.weight, variant.is_control) for variant in expected
    ]
    assert variants[4].config == {"model": "hybrid", "template": "list"}
    assert "6 variants generated from the factorial design." in response.content.decode()


@pytest.mark.django_db
def test_admin_reports_rounding_and_factor_errors(admin_client):
    rounded = admin_client.post(ADD_URL, form_data() | {"factors": "a: x, y, z"}, follow=True).content.decode()
    assert "some were rounded, by at most 0.0067 percentage points" in rounded
    assert sorted(Experiment.objects.get().variants.values_list("weight", flat=True)) == [
        Decimal("0.3333"),
        Decimal("0.3333"),
        Decimal("0.3334"),
    ]
    data = form_data() | {"key": "other", "factors": "color: red=50, blue=40"}
    page = admin_client.post(ADD_URL, data).content.decode()
    assert "Line 1: the weights of &#x27;color&#x27; sum to 90%, not 100%." in page
    assert not Experiment.objects.filter(key="other").exists()


@pytest.mark.django_db
def test_factors_cannot_replace_the_variants_of_a_started_experiment(admin_client):
    experiment = make_experiment(status=Experiment.Status.DRAFT)
    Assignment.objects.create(
        experiment=experiment, unit_id="visitor:x", variant=experiment.variants.first(), first_exposed_at=timezone.now()
    )
    url = reverse("admin:promotions_experiment_change", args=[experiment.pk])
    data = form_data() | {"key": experiment.key, "factors": "a: x, y", "variants-INITIAL_FORMS": "0"}
    page = admin_client.post(url, data).content.decode()
    assert "Variants can be generated for a draft experiment nobody has seen, only." in page
    assert sorted(experiment.variants.values_list("key", flat=True)) == ["control", "v1"]
