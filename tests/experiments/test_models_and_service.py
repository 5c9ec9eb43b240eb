"""Experiment models and ``variant_for``: validation, stickiness, traffic, layers, privacy, login."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.template import Context, Template

from promotions.experiments import variant_for
from promotions.experiments.models import Assignment, Experiment, Variant, validate_variants
from promotions.tracking.privacy import erase_person, export_person, find_person
from tests.experiments.factories import make_experiment, make_request

pytestmark = pytest.mark.django_db
VISITORS = [f"{index:032x}" for index in range(200)]


def test_variants_must_sum_to_one_with_exactly_one_control():
    validate_variants([(Decimal("0.5"), True), (Decimal("0.5"), False)])
    validate_variants([(Decimal("50"), True), (Decimal("50"), False)], scale=100)
    with pytest.raises(ValidationError, match="sum to 1, not 0.9"):
        validate_variants([(Decimal("0.5"), True), (Decimal("0.4"), False)])
    with pytest.raises(ValidationError, match="Exactly one variant must be the control"):
        validate_variants([(Decimal("0.5"), True), (Decimal("0.5"), True)])


def test_salt_defaults_to_the_key_and_stays():
    experiment = make_experiment()
    experiment.key = "renamed"
    experiment.save()
    assert experiment.salt == "banner"


def test_unknown_experiment_is_none_and_a_draft_shows_the_control_unrecorded():
    make_experiment(status=Experiment.Status.DRAFT)
    assert variant_for(make_request(), "missing") is None
    assert variant_for(make_request(), "banner").key == "control"
    assert not Assignment.objects.exists()


def test_exposure_is_recorded_and_sticky_after_weight_changes():
    experiment = make_experiment()
    first = {visitor: variant_for(make_request(visitor), "banner").key for visitor in VISITORS}
    assert set(first.values()) == {"control", "v1"}
    assert Assignment.objects.count() == len(VISITORS)
    assert all(row.first_exposed_at for row in Assignment.objects.all())
    Variant.objects.filter(experiment=experiment, key="control").update(weight=Decimal(0))
    Variant.objects.filter(experiment=experiment, key="v1").update(weight=Decimal(1))
    assert {visitor: variant_for(make_request(visitor), "banner").key for visitor in VISITORS} == first
    assert variant_for(make_request("new" * 8), "banner").key == "v1"
    assert Assignment.objects.count() == len(VISITORS) + 1


def test_traffic_share_leaves_units_out_unrecorded():
    make_experiment(traffic_share=Decimal("0.25"))
    keys = [variant_for(make_request(visitor), "banner").key for visitor in VISITORS]
    enrolled = Assignment.objects.count()
    assert 25 < enrolled < 75
    assert keys.count("control") == len(VISITORS) - Assignment.objects.filter(variant__key="v1").count()


def test_experiments_of_one_layer_are_mutually_exclusive():
    make_experiment("first", layer="home")
    make_experiment("second", layer="home")
    for visitor in VISITORS:
        variant_for(make_request(visitor), "first")
        variant_for(make_request(visitor), "second")
    first = set(Assignment.objects.filter(experiment__key="first").values_list("unit_id", flat=True))
    second = set(Assignment.objects.filter(experiment__key="second").values_list("unit_id", flat=True))
    assert first and second and not first & second
    assert len(first | second) == len(VISITORS)


def test_opted_out_visitor_gets_the_control_and_is_not_enrolled():
    make_experiment(weights=("0", "1"))
    assert variant_for(make_request(allowed=False), "banner").key == "control"
    assert not Assignment.objects.exists()


def test_targeting_signed_in_only():
    make_experiment(weights=("0", "1"), targeting={"signed_in": True})
    assert variant_for(make_request(), "banner").key == "control"
    assert not Assignment.objects.exists()


def test_staff_can_force_a_variant_without_being_counted(django_user_model):
    make_experiment(weights=("1", "0"))
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    shopper = django_user_model.objects.create_user("shopper")
    assert variant_for(make_request(user=staff, query="promotions_variant=banner:v1"), "banner").key == "v1"
    assert not Assignment.objects.exists()
    assert variant_for(make_request(user=shopper, query="promotions_variant=banner:v1"), "banner").key == "control"
    assert Assignment.objects.get().unit_id == f"user:{shopper.pk}"


def test_login_moves_the_visitor_assignment_to_the_user(django_user_model):
    make_experiment(weights=("0", "1"))
    user = django_user_model.objects.create_user("alice")
    request = make_request("a" * 32)
    assert variant_for(request, "banner").key == "v1"
    user_logged_in.send(sender=type(user), request=request, user=user)
    assert Assignment.objects.get().unit_id == f"user:{user.pk}"
    assert variant_for(make_request("a" * 32, user=user), "banner").key == "v1"


def test_at_login_the_users_own_assignment_wins(django_user_model):
    experiment = make_experiment(weights=("0", "1"))
    user = django_user_model.objects.create_user("alice")
    assert variant_for(make_request("b" * 32, user=user), "banner").key == "v1"
    Assignment.objects.filter(unit_id=f"user:{user.pk}").update(variant=experiment.variants.get(key="control"))
    request = make_request("a" * 32)
    variant_for(request, "banner")
    user_logged_in.send(sender=type(user), request=request, user=user)
    visitor_row = Assignment.objects.get(unit_id="visitor:" + "a" * 32)
    assert visitor_row.superseded and visitor_row.variant.key == "v1"
    assert variant_for(make_request("a" * 32, user=user), "banner").key == "control"


def test_template_tag_renders_the_variant():
    make_experiment(weights=("0", "1"))
    template = Template(
        '{% load promotions %}{% experiment "banner" as variant %}{{ variant.key }}/{{ variant.config.strategy }}'
    )
    assert template.render(Context({"request": make_request()})) == "v1/s1"
    assert Template('{% load promotions %}{% experiment "nope" as v %}[{{ v }}]').render(Context({})) == "[None]"


def test_privacy_export_and_erase_include_assignments(django_user_model):
    make_experiment(weights=("0", "1"))
    user = django_user_model.objects.create_user("alice")
    variant_for(make_request(user=user), "banner")
    variant_for(make_request("z" * 32), "banner")
    person = find_person(user=user.pk)
    rows = export_person(person)["sections"]["assignments"]
    assert [(row["experiment"], row["unit_id"], row["variant"]) for row in rows] == [
        ("banner", f"user:{user.pk}", "v1")
    ]
    assert erase_person(person)["assignments"] == 1
    assert list(Assignment.objects.values_list("unit_id", flat=True)) == ["visitor:" + "z" * 32]


def test_a_concluded_experiment_gives_everyone_its_winner_unrecorded():
    experiment = make_experiment(status=Experiment.Status.CONCLUDED)
    experiment.winner = experiment.variants.get(key="v1")
    experiment.save()
    assert variant_for(make_request(), "banner").key == "v1"
    assert variant_for(make_request(allowed=False), "banner").key == "v1"
    assert not Assignment.objects.exists()


def test_a_request_asking_twice_is_answered_from_memory(django_assert_num_queries):
    make_experiment()
    request = make_request()
    first = variant_for(request, "banner")
    with django_assert_num_queries(0):
        assert variant_for(request, "banner") is first


def test_targeting_is_validated_and_device_class_applied():
    with pytest.raises(ValidationError) as error:
        Experiment(key="x", name="X", targeting={"country": "FR"}).full_clean()
    assert "targeting" in error.value.message_dict
    Experiment(key="x", name="X", targeting={"signed_in": False, "device": ["mobile"]}).full_clean()
    make_experiment(weights=("0", "1"), targeting={"device": ["mobile"]})
    assert variant_for(make_request(), "banner").key == "control"  # a desktop browser
    assert not Assignment.objects.exists()


def test_the_force_parameter_is_a_setting(settings, django_user_model):
    settings.PROMOTIONS = {**settings.PROMOTIONS, "EXPERIMENT_FORCE_PARAMETER": "qa"}
    make_experiment(weights=("1", "0"))
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    assert variant_for(make_request(user=staff, query="qa=banner:v1"), "banner").key == "v1"
    assert not Assignment.objects.exists()


def test_a_misconfigured_experiment_serves_the_control():
    make_experiment(weights=("0.5", "0.4"))
    assert variant_for(make_request(), "banner").key == "control"
    assert not Assignment.objects.exists()
