"""Regret simulation: a policy serves visitors whose rewards are drawn from each arm's logged data.

Each visitor the policy sends to arm a gets the reward of a visitor drawn at random (with
replacement) from the rows logged for arm a, so the simulation reproduces the real reward
distribution of every arm (Hillstrom's randomized arms in the benchmark). The reward streams
come from their own generator, apart from the policy's, so that every policy of one run meets
the same visitors (common random numbers: the comparison is not blurred by luck).

Regret is the pseudo-regret: the sum over visitors of (best arm's true mean - chosen arm's true
mean), the true means being those of the logged data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from promotions.bandits.arms import Arm, ArmStats
from promotions.bandits.policies import Policy


@dataclass(frozen=True)
class SimulationRun:
    """One run: each visitor's arm index, reward and propensity, the cumulative regret, the best arm's share.

    Propensities (the share of the arm the visitor got, when they got it) are known only under
    re-weighting; with request-time sampling they are NaN.
    """

    keys: tuple[str, ...]
    choices: np.ndarray
    rewards: np.ndarray
    propensities: np.ndarray
    regret: float
    best_share: float


def _outcome(reward: float) -> ArmStats:
    # A reward above zero counts as a conversion; for a 0/1 reward it is the reward itself.
    return ArmStats(1, int(reward > 0), reward, reward * reward)


def simulate(
    policy: Policy,
    arm_rewards: Mapping[str, np.ndarray],
    visitors: int,
    policy_rng: np.random.Generator,
    reward_rng: np.random.Generator,
    reweight_every: int | None = None,
) -> SimulationRun:
    """Serve ``visitors`` visitors with ``policy``.

    With ``reweight_every=None`` the policy picks each visitor's arm with ``sample`` and learns
    from every reward at once (request-time sampling). Otherwise it is the periodic re-weighting
    a Celery task does: every ``reweight_every`` visitors ``allocation`` sets the shares, and
    the visitors in between are assigned by those shares.
    """
    keys = tuple(arm_rewards)
    if len(keys) < 2 or visitors < 1:
        raise ValueError("a simulation needs at least two arms and one visitor")
    if reweight_every is not None and reweight_every < 1:
        raise ValueError(f"reweight_every must be positive, got {reweight_every}")
    means = np.array([np.mean(arm_rewards[key]) for key in keys])
    streams = [reward_rng.choice(np.asarray(arm_rewards[key], dtype=float), size=visitors) for key in keys]
    outcomes = {value: _outcome(value) for stream in streams for value in np.unique(stream).tolist()}
    arms = [Arm(key) for key in keys]
    pulls = np.zeros(len(keys), dtype=np.int64)
    choices = np.empty(visitors, dtype=np.int64)
    rewards = np.empty(visitors)
    propensities = np.full(visitors, np.nan)
    if reweight_every is None:
        index_of = {key: index for index, key in enumerate(keys)}
        for visitor in range(visitors):
            index = index_of[policy.sample(arms, policy_rng).key]
            reward = streams[index][pulls[index]]
            pulls[index] += 1
            arms[index] = arms[index] + outcomes[reward]
            choices[visitor] = index
            rewards[visitor] = reward
    else:
        for start in range(0, visitors, reweight_every):
            shares = policy.allocation(arms, policy_rng)
            probabilities = np.array([shares[key] for key in keys])
            batch = slice(start, min(start + reweight_every, visitors))
            chosen = policy_rng.choice(len(keys), size=batch.stop - start, p=probabilities)
            choices[batch] = chosen
            propensities[batch] = probabilities[chosen]
            for index in range(len(keys)):
                got = streams[index][pulls[index] : pulls[index] + int((chosen == index).sum())]
                pulls[index] += len(got)
                rewards[batch][chosen == index] = got
                arms[index] = arms[index] + ArmStats.from_outcomes(got > 0, got)
    counts = np.bincount(choices, minlength=len(keys))
    best = int(np.argmax(means))
    return SimulationRun(
        keys=keys,
        choices=choices,
        rewards=rewards,
        propensities=propensities,
        regret=float(np.sum(counts * (means[best] - means))),
        best_share=float(counts[best] / visitors),
    )
