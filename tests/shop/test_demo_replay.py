"""The demo's replay on the built-in sample: held-out shoppers go through the real shop and fill the
experiments, the holdout and the bandit; the admin pages show the statistics engine's figures; the
same seed gives the same figures."""

import csv
import io
import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from promotions import registry
from promotions.experiments.models import Experiment
from promotions.experiments.results import experiment_results
from promotions.offers.models import SlotConfig
from promotions.serving.bandit import bandit_results
from promotions.serving.lift import holdout_lift
from promotions.tracking.models import Event, EventType
from promotions.uplift.records import UpliftReport
from shop_demo import replay
from shop_demo.catalog.loading import SAMPLE_HISTORY, TIMESTAMP_FORMAT
from shop_demo.measurement import (
    BANDIT_SLOT,
    HOME_EXPERIMENT,
    RECOMMENDER_EXPERIMENT,
    experiment_models,
    servable_version,
)
from shop_demo.models import Order, OrderLine

pytestmark = pytest.mark.django_db(transaction=True)
SEED = 7
#: A larger holdout than the default 5 %, so that the sample's two dozen shoppers put some in it.
SETTINGS = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.2}


@pytest.fixture
def demo_dirs(tmp_path):
    cache.clear()
    registry.forget_all()
    with override_settings(VAR_DIR=tmp_path / "var", MEDIA_ROOT=tmp_path / "media", PROMOTIONS=SETTINGS):
        yield tmp_path
    registry.forget_all()


def set_up(tmp_path) -> None:
    call_command("demo", "--no-serve", "--no-replay", "--datasets", str(tmp_path / "no-datasets"), stdout=io.StringIO())


def run_replay(tmp_path, *args: str) -> str:
    out = io.StringIO()
    call_command("demo_replay", "--datasets", str(tmp_path / "no-datasets"), *args, stdout=out)
    return out.getvalue()


def figures() -> dict:
    """Everything the replay's pages show, keyed by names that do not depend on primary keys."""
    result = {}
    for key in (HOME_EXPERIMENT, RECOMMENDER_EXPERIMENT):
        for row in experiment_results(Experiment.objects.get(key=key)).variants:
            comparison = row.comparison
            lifts = None if comparison is None else (float(comparison.rel_lift), float(comparison.rel_ci_low))
            result[key, row.variant.key] = (row.units, row.conversions, round(float(row.revenue.sum), 2), lifts)
    lift = holdout_lift()
    result["holdout"] = (int(lift.holdout.n), int(lift.holdout.successes), int(lift.personalized.n))
    config = SlotConfig.objects.get(slot=BANDIT_SLOT)
    result["bandit"] = sorted((arm.promotion.name, round(arm.share, 6)) for arm in bandit_results(config))
    return result


def test_a_small_replay_fills_both_arms_the_holdout_and_the_bandit_and_the_pages_show_it(demo_dirs, admin_client):
    set_up(demo_dirs)
    output = run_replay(demo_dirs, "--visitors", "30", "--seed", str(SEED))
    assert "failed requests" in output and " 0 failed requests" in output, output
    assert Order.objects.filter(customer_ref="").exists()  # orders placed through the checkout
    home = experiment_results(Experiment.objects.get(key=HOME_EXPERIMENT))
    assert [row.variant.key for row in home.variants] == ["not-personalized", "personalized"]
    assert all(row.units > 0 and row.conversions > 0 for row in home.variants)
    assert home.variants[1].comparison is not None
    recommender = experiment_results(Experiment.objects.get(key=RECOMMENDER_EXPERIMENT))
    assert all(row.units > 0 and row.revenue.sum > 0 for row in recommender.variants)
    lift = holdout_lift()
    assert lift.holdout.n > 0 and lift.personalized.n > 0 and lift.personalized.successes > 0
    assert Event.objects.filter(event_type=EventType.BANDIT_PICK).exists()
    config = SlotConfig.objects.get(slot=BANDIT_SLOT)
    assert config.weights and sum(arm.estimate is not None for arm in bandit_results(config)) > 0
    assert UpliftReport.objects.filter(name=replay.UPLIFT_REPORT_NAME).exists() or "uplift report not saved" in output

    # The results page's table: each variant's visitors, conversions, lift and interval as the engine has them.
    page = admin_client.get(reverse("admin:promotions_experiment_results", args=[home.experiment.pk])).content.decode()
    rows = re.findall(r'<tr class="variant-row">(.*?)</tr>', page, flags=re.S)
    cells = [re.findall(r"<td>(.*?)</td>", row, flags=re.S) for row in rows]
    for row, result in zip(cells, home.variants, strict=True):
        assert row[2] == str(result.units) and row[3] == str(result.conversions)
    treated = home.variants[1].comparison
    assert cells[1][6].startswith(f"{100 * float(treated.rel_lift):+.2f}%")
    assert cells[1][7] == f"[{100 * float(treated.rel_ci_low):+.2f}%, {100 * float(treated.rel_ci_high):+.2f}%]"
    assert 'class="interval-chart"' in page
    # The lift page and the bandit page show the replay's visitors.
    lift_page = admin_client.get(reverse("admin:promotions_promotion_lift")).content.decode()
    holdout_row = re.search(r'<tr class="holdout"><th>[^<]*</th><td>(\d+)</td>', lift_page)
    assert holdout_row is not None and int(holdout_row.group(1)) == lift.holdout.n
    bandit_page = admin_client.get(reverse("admin:promotions_slotconfig_results", args=[config.pk]))
    assert bandit_page.status_code == 200
    # The admin index links the lift page.
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("admin:promotions_promotion_lift")}"' in index


def test_the_same_seed_gives_the_same_figures(demo_dirs):
    set_up(demo_dirs)
    run_replay(demo_dirs, "--visitors", "20", "--seed", str(SEED))
    first = figures()
    assert first[HOME_EXPERIMENT, "personalized"][0] > 0
    call_command("flush", interactive=False, verbosity=0)
    cache.clear()
    registry.forget_all()
    set_up(demo_dirs)
    run_replay(demo_dirs, "--visitors", "20", "--seed", str(SEED))
    assert figures() == first


def test_bad_input_is_one_line_and_exit_code_2(demo_dirs):
    with pytest.raises(CommandError, match="set the demo up first") as error:
        run_replay(demo_dirs)
    assert error.value.returncode == 2
    set_up(demo_dirs)
    for args, message in (
        (("--days", "0"), "--days must be from 1"),
        (("--days", str(replay.HOLDOUT_DAYS + 1)), "--days must be from 1"),
        (("--visitors", "0"), "--visitors must be at least 1"),
    ):
        with pytest.raises(CommandError, match=message) as error:
            run_replay(demo_dirs, *args)
        assert error.value.returncode == 2


def test_the_held_out_days_stay_out_of_training(demo_dirs):
    split = replay.split_history(SAMPLE_HISTORY, replay.HOLDOUT_DAYS)
    assert split.shoppers and all(shopper.later for shopper in split.shoppers)
    set_up(demo_dirs)
    cut = split.cut.strftime(TIMESTAMP_FORMAT)
    rows = list(csv.DictReader(SAMPLE_HISTORY.open(encoding="utf-8")))
    kept = [row for row in rows if row["timestamp"] < cut]
    # Only the rows before the held-out days became events (what training reads) and orders.
    imported = Event.objects.filter(visitor_id__startswith="ext:", event_type=EventType.PURCHASE)
    assert imported.count() == len(kept) < len(rows)
    assert OrderLine.objects.count() == len(kept)
    # Both models of the recommender experiment have a version to serve.
    assert all(servable_version(name) is not None for name in experiment_models()) and experiment_models() == [
        "hybrid",
        "item_knn",
    ]
