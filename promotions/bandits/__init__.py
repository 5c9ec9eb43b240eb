"""Multi-armed bandits for promotion slots and experiments: pure numpy/scipy, no Django.

Thompson sampling on conversion and revenue per visitor (``thompson``), the arms' additive
statistics and priors (``arms``), epsilon-greedy and fixed-split baselines (``policies``),
inverse-propensity-weighted estimates from logged bandit data (``ipw``) and the regret
simulation behind ``benchmarks/bandit_regret.py`` (``simulation``).
"""

from promotions.bandits.arms import Arm, ArmStats, Prior, for_segment
from promotions.bandits.ipw import ArmEstimate, Estimate, ipw_estimates
from promotions.bandits.policies import EpsilonGreedy, FixedSplit, Policy, ThompsonSampling
from promotions.bandits.shares import NoActiveArmError
from promotions.bandits.thompson import allocation, posterior_draws, sample

__all__ = [
    "Arm",
    "ArmEstimate",
    "ArmStats",
    "EpsilonGreedy",
    "Estimate",
    "FixedSplit",
    "NoActiveArmError",
    "Policy",
    "Prior",
    "ThompsonSampling",
    "allocation",
    "for_segment",
    "ipw_estimates",
    "posterior_draws",
    "sample",
]
