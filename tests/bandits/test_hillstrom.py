"""The regret simulation on the real Hillstrom arms, as the benchmark runs it (shortened)."""

from pathlib import Path

import numpy as np
import pytest

from benchmarks.simulations.bandits import simulate
from promotions.bandits import FixedSplit, ThompsonSampling, ipw_estimates
from promotions.experiments.stats import offline
from tests.conftest import _unavailable

pytestmark = pytest.mark.data

ARMS = ("Mens E-Mail", "Womens E-Mail", "No E-Mail")


@pytest.fixture(scope="module")
def visits(datasets_dir: Path) -> dict[str, np.ndarray]:
    path = datasets_dir / "hillstrom" / "hillstrom.csv.gz"
    if not path.exists():
        _unavailable(f"The Hillstrom dataset {path}", "PROMOTIONS_REQUIRE_DATA")
    data = offline.load_experiment(path, group_col="segment", metric_col="visit")
    return {arm: data.metric[data.groups == arm] for arm in ARMS}


def test_thompson_finds_the_mens_e_mail_and_beats_a_fixed_split(visits):
    # The published visit rates by arm (SOURCE.md): the Mens e-mail is best.
    assert [round(float(visits[arm].mean()), 6) for arm in ARMS] == [0.182757, 0.1514, 0.106167]
    rngs = np.random.default_rng(2008).spawn(2)
    thompson = simulate(ThompsonSampling(burn_in=100), visits, 6_000, *rngs)
    fixed = simulate(FixedSplit(), visits, 6_000, *np.random.default_rng(2008).spawn(2))
    assert thompson.best_share > 0.6
    assert thompson.regret < 0.5 * fixed.regret
    # A fixed 1/3 split loses (0.1828 - 0.1468) visits per visitor on average.
    assert fixed.regret / 6_000 == pytest.approx(0.182757 - (0.182757 + 0.1514 + 0.106167) / 3, abs=0.003)


def test_ipw_recovers_the_arms_visit_rates_from_a_re_weighted_bandit_log(visits):
    run = simulate(
        ThompsonSampling(min_share=0.05, draws=4_000), visits, 20_000, *np.random.default_rng(7).spawn(2), 1_000
    )
    estimates = ipw_estimates(np.array(run.keys)[run.choices], run.rewards, run.propensities)
    for arm in ARMS:
        # Within three standard errors (a 95% interval of one run misses one time in twenty).
        estimate = estimates[arm].ipw
        assert abs(estimate.mean - visits[arm].mean()) < 3 * estimate.standard_error
        assert estimate.standard_error < 0.02
