"""A/A simulation: how often the engine's tests cry wolf when both arms are the same.

Every experiment is simulated at once with numpy arrays of shape (experiments, looks) and run
through the engine's own tests in ``stats`` (which broadcast over arrays), so the figures are
those of the code that analyses real experiments, not of a re-implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from promotions.experiments.stats.inference import (
    DEFAULT_ALPHA,
    DEFAULT_SEQUENTIAL_TUNING,
    SRM_THRESHOLD,
    ProportionStats,
    sample_ratio_mismatch,
    sequential_test,
    two_proportion_z_test,
)


@dataclass(frozen=True)
class AASimulation:
    """False-positive rates over the simulated A/A experiments.

    - ``fixed_horizon_fpr``: the z-test looked at once, at the final look;
    - ``peeking_fpr``: the same z-test declared significant at *any* of the looks (the inflation
      that peeking causes);
    - ``sequential_fpr``: the sequential test declared significant at any of the looks;
    - ``srm_false_alarm_rate``: the sample-ratio-mismatch check flagging the final counts.
    """

    experiments: int
    looks: int
    fixed_horizon_fpr: float
    peeking_fpr: float
    sequential_fpr: float
    srm_false_alarm_rate: float


def _cumulative_arms(
    rng: np.random.Generator, experiments: int, looks: int, visitors_per_arm: int, base_rate: float
) -> tuple[ProportionStats, ProportionStats]:
    """Cumulative counts per look; each look's visitors split 50/50 at random, as assignment does."""
    control_visitors = rng.binomial(2 * visitors_per_arm, 0.5, size=(experiments, looks))
    treatment_visitors = 2 * visitors_per_arm - control_visitors
    control_successes = rng.binomial(control_visitors, base_rate)
    treatment_successes = rng.binomial(treatment_visitors, base_rate)
    return (
        ProportionStats(control_visitors.cumsum(axis=1), control_successes.cumsum(axis=1)),
        ProportionStats(treatment_visitors.cumsum(axis=1), treatment_successes.cumsum(axis=1)),
    )


def simulate_aa(
    experiments: int = 10_000,
    base_rate: float = 0.02,
    visitors_per_arm_per_look: int = 2_000,
    looks: int = 20,
    alpha: float = DEFAULT_ALPHA,
    sequential_tuning: float = DEFAULT_SEQUENTIAL_TUNING,
    seed: int = 20080320,
) -> AASimulation:
    """Simulate A/A experiments with a shared conversion rate and count false positives."""
    rng = np.random.default_rng(seed)
    control, treatment = _cumulative_arms(rng, experiments, looks, visitors_per_arm_per_look, base_rate)
    fixed = two_proportion_z_test(control, treatment, alpha).p_value < alpha
    sequential = sequential_test(control, treatment, alpha, sequential_tuning).p_value < alpha
    final_counts = np.stack([control.n[:, -1], treatment.n[:, -1]], axis=-1)
    srm = sample_ratio_mismatch(final_counts, weights=[1, 1], threshold=SRM_THRESHOLD)
    return AASimulation(
        experiments=experiments,
        looks=looks,
        fixed_horizon_fpr=float(fixed[:, -1].mean()),
        peeking_fpr=float(fixed.any(axis=1).mean()),
        sequential_fpr=float(sequential.any(axis=1).mean()),
        srm_false_alarm_rate=float(srm.flagged.mean()),
    )
