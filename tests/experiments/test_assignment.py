"""Assignment: stable hashing, splits that match the weights, stickiness, layers and factorial designs."""

import ast
import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from promotions.experiments.stats import assignment
from promotions.experiments.stats.assignment import ExperimentSpec, LayerSlot, VariantSpec, assign

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = {"control": 0.5, "treatment_a": 0.3, "treatment_b": 0.2}
# Frozen once: any change of the hash function, its encoding or its bit count fails here, so
# units keep their variants across deployments, processes, machines and Python versions.
FROZEN_POINTS = {
    ("salt-1", "variant", "visitor:1"): 0.9447004450448707,
    ("salt-1", "traffic", "visitor:1"): 0.8235702792082835,
    ("checkout-2026", "variant", "user:42"): 0.8215109554887206,
    ("homepage", "layer", "user:42"): 0.7560185251710626,
    ("s", "variant", ""): 0.3781070920630175,
}


def experiment(weights=WEIGHTS, traffic_share=1.0, salt="checkout-2026", layer=None) -> ExperimentSpec:
    variants = tuple(VariantSpec(key, weight) for key, weight in weights.items())
    return ExperimentSpec("checkout", salt, traffic_share, variants, layer)


def units(n: int, prefix: str = "visitor") -> list[str]:
    return [f"{prefix}:{i}" for i in range(n)]


def assign_all(ids: list[str], spec: ExperimentSpec) -> list[str | None]:
    return [assign(unit, spec) for unit in ids]


@pytest.mark.parametrize(("parts", "expected"), FROZEN_POINTS.items())
def test_hash_points_are_frozen(parts, expected):
    assert assignment.hash_point(*parts) == expected


def test_hash_point_is_the_documented_sha256_construction():
    # An independent reimplementation of the docstring: length-prefixed UTF-8 parts, top 53 bits.
    def reference(*parts: str) -> float:
        data = b"".join(len(part.encode()).to_bytes(4, "big") + part.encode() for part in parts)
        return (int.from_bytes(hashlib.sha256(data).digest()[:8], "big") >> 11) / 2**53

    for parts in [*FROZEN_POINTS, ("sälz", "variant", "visiteur:é"), ("a:b", "variant", "c")]:
        assert assignment.hash_point(*parts) == reference(*parts)


def test_length_prefixes_keep_different_parts_apart():
    assert assignment.hash_point("a:b", "variant", "c") != assignment.hash_point("a", "variant", "b:c")
    assert assignment.hash_point("ab", "variant", "c") != assignment.hash_point("a", "variant", "bc")


def test_points_lie_in_the_unit_interval():
    points = [assignment.hash_point("salt", "variant", unit) for unit in units(10_000)]
    assert min(points) >= 0
    assert max(points) < 1
    assert len(set(points)) == len(points)


def test_assignment_is_the_same_in_other_processes_with_other_hash_seeds():
    ids = units(200)
    script = (
        "import json, sys\n"
        "from promotions.experiments.stats.assignment import ExperimentSpec, VariantSpec, assign\n"
        "spec = ExperimentSpec('checkout', 'checkout-2026', 0.7, tuple(VariantSpec(k, w) for k, w in "
        f"{WEIGHTS!r}.items()))\n"
        "print(json.dumps([assign(unit, spec) for unit in json.loads(sys.stdin.read())]))\n"
    )
    expected = assign_all(ids, experiment(traffic_share=0.7))
    assert None in expected and len(set(expected)) == 4
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, "-c", script], input=json.dumps(ids), env=env, capture_output=True, text=True, check=True
        )
        assert json.loads(result.stdout) == expected


def test_one_million_units_split_within_two_tenths_of_a_point_of_the_weights():
    counts = Counter(assign_all(units(1_000_000), experiment()))
    assert set(counts) == set(WEIGHTS)
    for key, weight in WEIGHTS.items():
        assert abs(counts[key] / 1_000_000 - weight) < 0.002, key


def test_weights_that_are_not_whole_percentages_are_respected():
    weights = {"control": Decimal("0.3333"), "a": Decimal("0.3333"), "b": Decimal("0.3334")}
    counts = Counter(assign_all(units(200_000), experiment(weights)))
    for key, weight in weights.items():
        # Four standard errors of a 1/3 share among 200,000 units: 0.42 points.
        assert abs(counts[key] / 200_000 - float(weight)) < 0.0042, key


def test_zero_weight_variant_gets_no_units():
    counts = Counter(assign_all(units(20_000), experiment({"control": 0.5, "off": 0.0, "on": 0.5})))
    assert counts["off"] == 0
    assert counts["control"] > 0 and counts["on"] > 0


def test_traffic_share_is_respected():
    enrolled = 200_000 - assign_all(units(200_000), experiment(traffic_share=0.25)).count(None)
    assert abs(enrolled / 200_000 - 0.25) < 0.004


def test_no_traffic_enrolls_nobody():
    assert assign_all(units(5_000), experiment(traffic_share=0)) == [None] * 5_000


def test_changing_the_traffic_share_keeps_the_variant_of_units_that_stay_in():
    ids = units(50_000)
    before = dict(zip(ids, assign_all(ids, experiment(traffic_share=0.2)), strict=True))
    after = dict(zip(ids, assign_all(ids, experiment(traffic_share=0.6)), strict=True))
    stayed = [unit for unit in ids if before[unit] is not None]
    assert len(stayed) > 9_000
    # Raising the share only adds units; every unit already in keeps its variant.
    assert all(after[unit] == before[unit] for unit in stayed)
    added = [unit for unit in ids if before[unit] is None and after[unit] is not None]
    assert abs(len(added) / 50_000 - 0.4) < 0.01


def test_the_variant_does_not_depend_on_the_traffic_hash():
    # Units enrolled and units left out are split alike: the variant hash is salted separately.
    variants = assign_all(units(100_000), experiment())
    enrolled = [v is not None for v in assign_all(units(100_000), experiment(traffic_share=0.5))]
    inside = Counter(v for v, e in zip(variants, enrolled, strict=True) if e)
    outside = Counter(v for v, e in zip(variants, enrolled, strict=True) if not e)
    for key in WEIGHTS:
        assert abs(inside[key] / inside.total() - outside[key] / outside.total()) < 0.01


def test_other_salts_give_independent_assignments():
    ids = units(20_000)
    first = assign_all(ids, experiment({"a": 0.5, "b": 0.5}))
    second = assign_all(ids, experiment({"a": 0.5, "b": 0.5}, salt="other"))
    agreement = sum(x == y for x, y in zip(first, second, strict=True)) / len(ids)
    assert abs(agreement - 0.5) < 0.02


def test_an_exposed_unit_keeps_its_variant_when_the_weights_change():
    ids = units(20_000)
    recorded = dict(zip(ids, assign_all(ids, experiment()), strict=True))
    reweighted = experiment({"control": 0.1, "treatment_a": 0.1, "treatment_b": 0.8})
    # Hashing alone would move many units under the new weights ...
    assert sum(assign(unit, reweighted) != recorded[unit] for unit in ids) > 5_000
    # ... but the recorded variant wins, also over a traffic share that now leaves them out.
    assert all(assign(unit, reweighted, existing=recorded[unit]) == recorded[unit] for unit in ids)
    assert assign("visitor:1", experiment(traffic_share=0), existing="treatment_b") == "treatment_b"


def test_new_units_follow_the_new_weights():
    reweighted = experiment({"control": 0.1, "treatment_a": 0.1, "treatment_b": 0.8})
    counts = Counter(assign(unit, reweighted) for unit in units(50_000, prefix="new"))
    assert abs(counts["treatment_b"] / 50_000 - 0.8) < 0.01


LAYER_RANGES = {"banner": (0.0, 0.3), "checkout": (0.3, 0.5), "search": (0.7, 1.0)}


def layered(key: str) -> ExperimentSpec:
    start, end = LAYER_RANGES[key]
    variants = (VariantSpec("control", 0.5), VariantSpec("treatment", 0.5))
    return ExperimentSpec(key, f"{key}-salt", 1.0, variants, LayerSlot("homepage-layer", start, end))


def test_experiments_in_a_layer_are_mutually_exclusive_and_cover_their_ranges():
    ids = units(100_000)
    specs = [layered(key) for key in LAYER_RANGES]
    owners = Counter()
    for unit in ids:
        enrolled_in = [spec.key for spec in specs if assign(unit, spec) is not None]
        assert len(enrolled_in) <= 1
        owner = assignment.experiment_in_layer(unit, "homepage-layer", LAYER_RANGES)
        assert enrolled_in == ([owner] if owner else [])
        owners[owner] += 1
    for key, (start, end) in LAYER_RANGES.items():
        assert abs(owners[key] / len(ids) - (end - start)) < 0.005, key
    # The gap [0.5, 0.7) belongs to no experiment.
    assert abs(owners[None] / len(ids) - 0.2) < 0.005


def test_traffic_share_applies_within_the_layer_range():
    spec = layered("banner")
    thinned = ExperimentSpec(spec.key, spec.salt, 0.5, spec.variants, spec.layer)
    enrolled = sum(assign(unit, thinned) is not None for unit in units(100_000))
    assert abs(enrolled / 100_000 - 0.3 * 0.5) < 0.004


def test_overlapping_layer_ranges_are_rejected():
    with pytest.raises(ValueError, match="'a' and 'b' overlap"):
        assignment.experiment_in_layer("visitor:1", "layer", {"b": (0.4, 0.8), "a": (0.0, 0.5)})
    with pytest.raises(ValueError, match="need 0 <= start <= end <= 1"):
        assignment.check_layer({"a": (0.5, 1.5)})
    with pytest.raises(ValueError, match="0 <= start <= end <= 1"):
        LayerSlot("layer", 0.6, 0.4)
    assignment.check_layer({"a": (0.0, 0.5), "b": (0.5, 1.0)})  # touching ranges are fine


def test_factorial_variants_multiply_level_weights():
    variants = assignment.factorial_variants(
        {"color": {"red": 0.5, "blue": 0.5}, "size": {"small": Decimal("0.25"), "medium": 0.35, "large": 0.4}}
    )
    weights = {variant.key: variant.weight for variant in variants}
    assert list(weights) == [
        "color=red|size=small",
        "color=red|size=medium",
        "color=red|size=large",
        "color=blue|size=small",
        "color=blue|size=medium",
        "color=blue|size=large",
    ]
    assert weights["color=blue|size=medium"] == pytest.approx(0.175)
    assert weights["color=red|size=small"] == pytest.approx(0.125)
    assert sum(weights.values()) == pytest.approx(1)


def test_factorial_assignment_makes_factors_independent():
    factors = {"color": {"red": 0.3, "blue": 0.7}, "size": {"small": 0.6, "large": 0.4}}
    spec = ExperimentSpec("mvt", "mvt-salt", 1.0, assignment.factorial_variants(factors))
    keys = [assign(unit, spec) for unit in units(100_000)]
    red = np.array([key.startswith("color=red") for key in keys])
    small = np.array([key.endswith("size=small") for key in keys])
    assert abs(red.mean() - 0.3) < 0.01
    assert abs(small.mean() - 0.6) < 0.01
    assert abs((red & small).mean() - 0.18) < 0.01


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({}, "at least one factor"),
        ({"color": {}}, "Factor 'color': An experiment needs at least one variant"),
        ({"color": {"red": 0.5, "blue": 0.4}}, "Factor 'color': Variant weights sum to 0.9"),
        ({"color": {"red": -0.5, "blue": 1.5}}, "Variant 'red' has weight -0.5"),
        ({"col|or": {"red": 1.0}}, "'col|or' must be non-empty"),
        ({"color": {"re=d": 1.0}}, "'re=d' must be non-empty"),
    ],
)
def test_factorial_validation(factors, message):
    with pytest.raises(ValueError, match=message):
        assignment.factorial_variants(factors)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({}, "at least one variant"),
        ({"control": 0.5, "treatment": 0.4}, "sum to 0.9"),
        ({"control": 0.5, "treatment": 0.5 + 2e-9}, "not 1"),
        ({"control": 1.5, "treatment": -0.5}, "'treatment' has weight -0.5: a weight must be a number >= 0"),
        ({"control": float("nan"), "treatment": 0.5}, "'control' has weight nan"),
    ],
)
def test_invalid_weights_are_rejected_with_a_clear_message(weights, message):
    with pytest.raises(ValueError, match=message):
        experiment(weights)


def test_duplicate_variant_keys_are_rejected():
    variants = (VariantSpec("control", 0.5), VariantSpec("treatment", 0.25), VariantSpec("control", 0.25))
    with pytest.raises(ValueError, match="Duplicate variant keys: control"):
        ExperimentSpec("checkout", "salt", 1.0, variants)


def test_weights_summing_to_one_within_rounding_are_accepted():
    spec = experiment({"a": 0.1, "b": 0.2, "c": 0.7 + 5e-10})
    assert spec.bounds[-1] == 1.0
    # A partial sum past 1 by rounding is capped, so the bounds stay sorted and zero-weight "c" is empty.
    spec = experiment({"a": 0.5, "b": 0.5 + 5e-10, "c": 0.0})
    assert spec.bounds == (0.5, 1.0, 1.0)
    assert set(assign_all(units(2_000), spec)) == {"a", "b"}


@pytest.mark.parametrize("share", [-0.1, 1.01])
def test_traffic_share_outside_the_unit_interval_is_rejected(share):
    with pytest.raises(ValueError, match="traffic share .* must be in \\[0, 1\\]"):
        experiment(traffic_share=share)


def test_an_empty_salt_is_rejected():
    with pytest.raises(ValueError, match="non-empty salt"):
        experiment(salt="")


def test_assignment_module_does_not_import_django():
    tree = ast.parse(Path(assignment.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] == "django"}
