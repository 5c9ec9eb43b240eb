"""A/A simulation with the issue's fixed parameters: 10,000 experiments, 2 %, 2,000 per arm per look, 20 looks."""

import pytest

from benchmarks.simulations.aa import simulate_aa


@pytest.fixture(scope="module")
def aa():
    return simulate_aa(experiments=10_000, base_rate=0.02, visitors_per_arm_per_look=2_000, looks=20, alpha=0.05)


def test_fixed_horizon_false_positive_rate_is_nominal(aa):
    assert 0.04 <= aa.fixed_horizon_fpr <= 0.06


def test_sequential_test_stays_below_alpha_when_peeking_at_every_look(aa):
    assert aa.sequential_fpr <= 0.05


def test_peeking_inflates_the_fixed_horizon_test(aa):
    assert aa.peeking_fpr > 0.10
    assert aa.peeking_fpr > 3 * aa.sequential_fpr


def test_sample_ratio_mismatch_rarely_false_alarms(aa):
    assert aa.srm_false_alarm_rate <= 0.002


def test_simulation_is_reproducible_for_a_seed():
    assert simulate_aa(experiments=500, looks=5, seed=9) == simulate_aa(experiments=500, looks=5, seed=9)
