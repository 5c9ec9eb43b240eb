"""The engine on the real Hillstrom e-mail experiment equals independent scipy/statsmodels figures."""

import pytest

from promotions.experiments.stats import inference as stats
from promotions.experiments.stats import offline

pytestmark = pytest.mark.data

TOLERANCE = 1e-6
MONTE_CARLO_TOLERANCE = 0.005
TREATMENTS = ("Mens E-Mail", "Womens E-Mail")
PROPORTION_METRICS = ("visit", "conversion")
INTERVAL_FIELDS = ("abs_lift", "rel_lift", "ci_low", "ci_high", "rel_ci_low", "rel_ci_high", "statistic")


@pytest.fixture(scope="module")
def arms(hillstrom_csv) -> dict:
    """Sufficient statistics per arm and metric, built from the rows that the command reads."""
    summaries = {}
    for metric in (*PROPORTION_METRICS, "spend"):
        data = offline.load_experiment(hillstrom_csv, group_col="segment", metric_col=metric)
        for arm in set(data.groups.tolist()):
            values = data.metric[data.groups == arm]
            summary = (
                stats.ProportionStats(len(values), int(values.sum()))
                if metric in PROPORTION_METRICS
                else stats.MeanStats.from_values(values)
            )
            summaries.setdefault(arm, {})[metric] = summary
    return summaries


def _assert_close(result, reference: dict, fields) -> None:
    for field in fields:
        assert getattr(result, field) == pytest.approx(reference[field], abs=TOLERANCE), field
    # p-values can be tiny, so they are compared relatively as well.
    assert result.p_value == pytest.approx(reference["p_value"], rel=TOLERANCE, abs=1e-300)


def test_arm_sizes_and_sample_ratio_mismatch(arms, hillstrom_reference):
    counts = [arms[arm]["visit"].n for arm in hillstrom_reference["arm_counts"]]
    assert counts == list(hillstrom_reference["arm_counts"].values()) == [21306, 21307, 21387]
    srm = stats.sample_ratio_mismatch(counts, [1, 1, 1])
    assert srm.statistic == pytest.approx(hillstrom_reference["srm"]["statistic"], abs=TOLERANCE)
    assert srm.p_value == pytest.approx(hillstrom_reference["srm"]["p_value"], abs=TOLERANCE)
    assert not srm.flagged


@pytest.mark.parametrize("treatment", TREATMENTS)
@pytest.mark.parametrize("metric", PROPORTION_METRICS)
def test_two_proportion_z_test(arms, hillstrom_reference, treatment, metric):
    reference = hillstrom_reference["comparisons"][treatment][metric]
    control_stats, treatment_stats = arms["No E-Mail"][metric], arms[treatment][metric]
    assert control_stats.mean == pytest.approx(reference["control"]["mean"], abs=TOLERANCE)
    assert treatment_stats.mean == pytest.approx(reference["treatment"]["mean"], abs=TOLERANCE)
    _assert_close(stats.two_proportion_z_test(control_stats, treatment_stats), reference, INTERVAL_FIELDS)


@pytest.mark.parametrize("treatment", TREATMENTS)
def test_welch_t_test_on_spend(arms, hillstrom_reference, treatment):
    reference = hillstrom_reference["comparisons"][treatment]["spend"]
    control_stats, treatment_stats = arms["No E-Mail"]["spend"], arms[treatment]["spend"]
    assert control_stats.mean == pytest.approx(reference["control"]["mean"], abs=TOLERANCE)
    assert treatment_stats.mean == pytest.approx(reference["treatment"]["mean"], abs=TOLERANCE)
    assert stats.welch_degrees_of_freedom(control_stats, treatment_stats) == pytest.approx(reference["df"], rel=1e-9)
    _assert_close(stats.welch_t_test(control_stats, treatment_stats), reference, INTERVAL_FIELDS)


@pytest.mark.parametrize("treatment", TREATMENTS)
@pytest.mark.parametrize("metric", PROPORTION_METRICS)
def test_beta_posteriors_and_bayesian_figures(arms, hillstrom_reference, treatment, metric):
    reference = hillstrom_reference["comparisons"][treatment][metric]["bayesian"]
    control_stats, treatment_stats = arms["No E-Mail"][metric], arms[treatment][metric]
    control, variant = stats.BetaPosterior.from_stats(control_stats), stats.BetaPosterior.from_stats(treatment_stats)
    assert control.credible_interval(0.95) == pytest.approx(reference["control_credible_interval"], abs=TOLERANCE)
    assert variant.credible_interval(0.95) == pytest.approx(reference["treatment_credible_interval"], abs=TOLERANCE)
    assert stats.chance_to_beat_integrated(control, variant) == pytest.approx(
        reference["chance_to_beat_control"], abs=TOLERANCE
    )
    assert stats.expected_loss_integrated(control, variant) == pytest.approx(reference["expected_loss"], abs=TOLERANCE)
    monte_carlo = stats.bayesian_proportions(control_stats, treatment_stats)
    assert monte_carlo.chance_to_beat_control == pytest.approx(
        reference["chance_to_beat_control"], abs=MONTE_CARLO_TOLERANCE
    )
    assert monte_carlo.expected_loss == pytest.approx(reference["expected_loss"], abs=MONTE_CARLO_TOLERANCE)


def test_monte_carlo_on_a_close_call_is_within_half_a_point_of_integration(hillstrom_reference):
    case = hillstrom_reference["close_case"]
    control, treatment = (stats.ProportionStats(**case[arm]) for arm in ("control", "treatment"))
    reference = case["bayesian"]
    assert 0.6 < reference["chance_to_beat_control"] < 0.9
    result = stats.bayesian_proportions(control, treatment)
    for field in ("chance_to_beat_control", "expected_loss", "expected_loss_control"):
        assert getattr(result, field) == pytest.approx(reference[field], abs=MONTE_CARLO_TOLERANCE), field
    integrated = stats.chance_to_beat_integrated(
        stats.BetaPosterior.from_stats(control), stats.BetaPosterior.from_stats(treatment)
    )
    assert integrated == pytest.approx(reference["chance_to_beat_control"], abs=1e-9)


def test_holm_adjustment_over_arms_and_metrics(arms, hillstrom_reference):
    p_values = [
        stats.two_proportion_z_test(arms["No E-Mail"][metric], arms[treatment][metric]).p_value
        if metric in PROPORTION_METRICS
        else stats.welch_t_test(arms["No E-Mail"][metric], arms[treatment][metric]).p_value
        for treatment in TREATMENTS
        for metric in (*PROPORTION_METRICS, "spend")
    ]
    adjusted = stats.holm_adjust(p_values)
    assert adjusted == pytest.approx(hillstrom_reference["holm"]["adjusted"], rel=TOLERANCE, abs=1e-300)
