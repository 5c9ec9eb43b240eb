"""The global holdout and targeting by visitor attributes (new or returning, country, segments)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.utils import timezone

from promotions.experiments import variant_for
from promotions.experiments.models import Assignment, Experiment, targeting_errors
from promotions.tracking.models import Event
from promotions.visitors.holdout import in_holdout
from tests.experiments.factories import make_experiment, make_request
from tests.experiments.test_admin import ADD_URL, form_data

pytestmark = pytest.mark.django_db
VISITORS = [f"{index:032x}" for index in range(400)]
SEGMENT_PATH = "tests.experiments.test_targeting_and_holdout.vip_segment"
BROKEN_PATH = "tests.experiments.test_targeting_and_holdout.broken_segment"


def vip_segment(request) -> bool:
    return request.GET.get("tier") == "vip"


def broken_segment(request) -> bool:
    raise RuntimeError("the shop's segment code failed")


@pytest.fixture
def holdout(settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.2}


@pytest.fixture
def segments(settings):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "SEGMENTS": {"vip": SEGMENT_PATH, "broken": BROKEN_PATH}}


def test_holdout_visitors_get_the_control_and_are_never_enrolled(holdout):
    make_experiment(weights=("0", "1"))
    held = [visitor for visitor in VISITORS if in_holdout(make_request(visitor))]
    assert 40 < len(held) < 120  # about 20% of 400
    for visitor in VISITORS:
        expected = "control" if visitor in held else "v1"
        assert variant_for(make_request(visitor), "banner").key == expected
    enrolled = set(Assignment.objects.values_list("unit_id", flat=True))
    assert enrolled == {f"visitor:{visitor}" for visitor in VISITORS if visitor not in held}


def test_a_concluded_winner_never_reaches_the_holdout(holdout):
    experiment = make_experiment(status=Experiment.Status.CONCLUDED)
    experiment.winner = experiment.variants.get(key="v1")
    experiment.save()
    held = next(visitor for visitor in VISITORS if in_holdout(make_request(visitor)))
    kept = next(visitor for visitor in VISITORS if not in_holdout(make_request(visitor)))
    assert variant_for(make_request(held), "banner").key == "control"
    assert variant_for(make_request(kept), "banner").key == "v1"
    assert not Assignment.objects.exists()


def test_staff_can_still_force_a_variant_while_held_out(settings, django_user_model):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "HOLDOUT_SHARE": 0.99}
    make_experiment(weights=("1", "0"))
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    request = make_request(user=staff, query="promotions_variant=banner:v1")
    assert in_holdout(request)
    assert variant_for(request, "banner").key == "v1"
    assert not Assignment.objects.exists()


def test_targeting_new_or_returning_visitors():
    make_experiment("returning", weights=("0", "1"), targeting={"returning": True})
    make_experiment("new", weights=("0", "1"), targeting={"returning": False})
    old, fresh = VISITORS[0], VISITORS[1]
    for visitor, age in ((old, timedelta(days=3)), (fresh, timedelta(0))):
        Event.objects.create(
            event_type="view", visitor_id=visitor, occurred_at=timezone.now() - age, idempotency_key=uuid.uuid4().hex
        )
    assert variant_for(make_request(old), "returning").key == "v1"
    assert variant_for(make_request(old), "new").key == "control"
    assert variant_for(make_request(fresh), "returning").key == "control"
    assert variant_for(make_request(fresh), "new").key == "v1"
    assert sorted(Assignment.objects.values_list("experiment__key", "unit_id")) == [
        ("new", f"visitor:{fresh}"),
        ("returning", f"visitor:{old}"),
    ]


def test_targeting_by_country_from_the_configured_header(settings):
    make_experiment(weights=("0", "1"), targeting={"country": ["gb", "FR"]})

    def country_of(visitor: str, **meta: str) -> str:
        request = make_request(visitor)
        request.META.update(meta)
        return variant_for(request, "banner").key

    assert country_of(VISITORS[0], HTTP_CF_IPCOUNTRY="GB") == "v1"
    assert country_of(VISITORS[1], HTTP_CF_IPCOUNTRY="fr") == "v1"
    assert country_of(VISITORS[2], HTTP_CF_IPCOUNTRY="DE") == "control"
    assert country_of(VISITORS[3]) == "control"  # no header: no country matches
    settings.PROMOTIONS = {**settings.PROMOTIONS, "COUNTRY_HEADER": "HTTP_X_COUNTRY"}
    assert country_of(VISITORS[4], HTTP_CF_IPCOUNTRY="GB") == "control"
    assert country_of(VISITORS[5], HTTP_X_COUNTRY="GB") == "v1"
    assert Assignment.objects.count() == 3


def test_targeting_by_shop_registered_segments(segments, caplog):
    make_experiment(weights=("0", "1"), targeting={"segments": ["broken", "vip"]})
    assert variant_for(make_request(VISITORS[0], query="tier=vip"), "banner").key == "v1"
    assert variant_for(make_request(VISITORS[1], query="tier=basic"), "banner").key == "control"
    assert "segment 'broken'" in caplog.text  # a failing segment is logged, the page served
    assert list(Assignment.objects.values_list("unit_id", flat=True)) == [f"visitor:{VISITORS[0]}"]


def test_every_key_must_fit(segments):
    make_experiment(weights=("0", "1"), targeting={"segments": ["vip"], "device": ["mobile"]})
    assert variant_for(make_request(VISITORS[0], query="tier=vip"), "banner").key == "control"  # desktop
    mobile = make_request(VISITORS[1], query="tier=vip")
    mobile.META["HTTP_USER_AGENT"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    assert variant_for(mobile, "banner").key == "v1"


def test_targeting_errors_name_what_is_wrong(segments):
    assert targeting_errors({"returning": False, "country": ["GB"], "segments": ["vip"], "device": ["mobile"]}) == []
    assert "Unknown targeting key(s): browser, colour." in targeting_errors({"colour": 1, "browser": "x"})[0]
    assert "Unknown segment(s): gold." in targeting_errors({"segments": ["vip", "gold"]})[0]
    assert '"returning" must be true or false.' in targeting_errors({"returning": "yes"})
    assert any('"country"' in message for message in targeting_errors({"country": ["GBR"]}))
    assert any('"device"' in message for message in targeting_errors({"device": ["tv"]}))
    assert targeting_errors([]) and targeting_errors({"segments": "vip"})
    with pytest.raises(ValidationError) as error:
        Experiment(key="x", name="X", targeting={"segments": ["gold"]}).full_clean()
    assert "Unknown segment(s): gold." in error.value.message_dict["targeting"][0]


def test_system_check_reports_unusable_segment_paths(settings):
    settings.PROMOTIONS = {
        **settings.PROMOTIONS,
        "SEGMENTS": {"vip": SEGMENT_PATH, "gone": "tests.nowhere.segment", "plain": f"{__name__}.SEGMENT_PATH"},
    }
    errors = [error for error in run_checks() if error.id == "promotions.E013"]
    assert sorted(error.msg.split(" cannot")[0] for error in errors) == [
        "PROMOTIONS['SEGMENTS']['gone']",
        "PROMOTIONS['SEGMENTS']['plain']",
    ]


def test_the_admin_form_names_unknown_targeting_keys_and_segments(admin_client, segments):
    variants = (("control", "50", True), ("b", "50", False))
    page = admin_client.post(ADD_URL, form_data(*variants) | {"targeting": '{"colour": "red"}'}).content.decode()
    assert "Unknown targeting key(s): colour." in page and "errorlist" in page
    page = admin_client.post(ADD_URL, form_data(*variants) | {"targeting": '{"segments": ["gold"]}'}).content.decode()
    assert "Unknown segment(s): gold. PROMOTIONS[&quot;SEGMENTS&quot;] defines: broken, vip." in page
    assert not Experiment.objects.exists()
    good = '{"segments": ["vip"], "country": ["GB"], "returning": false}'
    assert admin_client.post(ADD_URL, form_data(*variants) | {"targeting": good}).status_code == 302
    assert Experiment.objects.get().targeting == {"segments": ["vip"], "country": ["GB"], "returning": False}
