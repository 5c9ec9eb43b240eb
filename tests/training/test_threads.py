"""TRAINING_THREADS: the BLAS/OpenMP limit is in force while models fit, and kept with the version."""

import pytest
from threadpoolctl import threadpool_info

from promotions.recommenders import MODELS, ItemKNNRecommender
from promotions.recommenders.threads import available_cores, limited_threads, observed_threads, resolve_threads
from promotions.training import pipeline

#: What threadpoolctl reported inside each probe fit (filled by ``ProbeRecommender``).
SEEN: list[dict[str, int]] = []


class ProbeRecommender(ItemKNNRecommender):
    """item-kNN that notes the BLAS thread count it was fitted under."""

    name = "probe"

    def _fit(self, interactions, infos):
        SEEN.append(observed_threads())
        super()._fit(interactions, infos)


@pytest.fixture
def probe(monkeypatch):
    monkeypatch.setitem(MODELS, "probe", ProbeRecommender)
    SEEN.clear()
    yield SEEN
    SEEN.clear()


def blas_pools() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.mark.parametrize(("setting", "in_worker", "expected"), [(None, True, 1), (2, True, 2), (1, False, 1)])
def test_the_limit_is_in_force_during_every_fit_and_recorded(shop, probe, settings, setting, in_worker, expected):
    if not blas_pools():
        pytest.skip("numpy has no BLAS that threadpoolctl can see")
    before = blas_pools()
    settings.PROMOTIONS = {"TRAINING_THREADS": setting}
    version = pipeline.train(["probe"], in_worker=in_worker)
    assert version.status in ("active", "ready"), version.error
    # Three validation windows at most, then the final fit: each one under the limit.
    assert len(probe) >= 2 and all(seen["blas"] == expected for seen in probe)
    recorded = version.metrics["threads"]
    version.refresh_from_db()
    assert version.metrics["threads"] == recorded
    assert recorded["limit"] == expected and recorded["blas"] == expected
    assert recorded["setting"] == setting and recorded["in_worker"] is in_worker
    assert blas_pools() == before  # the process's own threads come back after the run


def test_automatic_means_one_thread_in_a_worker_and_every_core_alone():
    assert resolve_threads(None, in_worker=True) == 1
    assert resolve_threads(None, in_worker=False) == available_cores()
    assert resolve_threads(3, in_worker=True) == 3
    for bad in (0, -1, "2", 1.5, True):
        with pytest.raises(ValueError, match="TRAINING_THREADS must be a positive integer"):
            resolve_threads(bad, in_worker=False)


def test_a_bad_setting_fails_the_run_with_a_readable_error_and_a_check(shop, settings):
    from promotions.checks import check_settings

    settings.PROMOTIONS = {"TRAINING_THREADS": 0}
    version = pipeline.train(["item_knn"])
    assert version.status == "failed" and "TRAINING_THREADS must be a positive integer" in version.error
    assert any("TRAINING_THREADS" in error.msg for error in check_settings(None))


def test_limited_threads_yields_what_took_effect():
    if not blas_pools():
        pytest.skip("numpy has no BLAS that threadpoolctl can see")
    with limited_threads(1) as observed:
        assert observed["blas"] == 1 and blas_pools() == [1] * len(blas_pools())
