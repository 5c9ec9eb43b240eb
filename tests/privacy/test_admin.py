"""The read-only Visitor admin and its export and erase actions."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.urls import reverse

from promotions.tracking.models import Event, Visitor

from .conftest import ALICE_COOKIE, BOB_COOKIE

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:promotions_visitor_changelist"


def act(client, action: str, *keys: str, **extra):
    pks = Visitor.objects.filter(key__in=keys).values_list("pk", flat=True)
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], **extra}
    return client.post(reverse(CHANGELIST), data)


@pytest.fixture
def admin_client(client, django_user_model):
    """A superuser without a password (hashing one is slow)."""
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com"))
    return client


@pytest.fixture
def staff_client(client, django_user_model):
    """Staff who may view visitors and events, but not delete visitors."""
    staff = django_user_model.objects.create_user("clerk", "clerk@example.com", is_staff=True)
    codenames = ["view_visitor", "view_event"]
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="promotions", codename__in=codenames))
    client.force_login(staff)
    return client


def test_changelist_is_read_only_and_searchable(admin_client, alice, bob):
    response = admin_client.get(reverse(CHANGELIST), {"q": "alice@example"})
    assert response.status_code == 200
    assert {visitor.key for visitor in response.context["cl"].result_list} == {ALICE_COOKIE, "ext:C100"}
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert {"export_person_data", "erase_person_data"} <= actions.keys() and "delete_selected" not in actions
    assert admin_client.get(reverse("admin:promotions_visitor_add")).status_code == 403


def test_export_action_returns_their_json(admin_client, alice, bob):
    response = act(admin_client, "export_person_data", ALICE_COOKIE)
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["user"]["id"] == alice.pk and len(data["sections"]["events"]) == 4


def test_export_of_several_people_is_a_list_one_per_person(admin_client, alice, bob):
    # Two of Alice's ids and Bob's: two people.
    data = json.loads(act(admin_client, "export_person_data", ALICE_COOKIE, "ext:C100", BOB_COOKIE).content)
    assert sorted(export["user"]["username"] for export in data) == ["alice", "bob"]


def test_erase_action_confirms_then_erases(admin_client, alice, bob):
    page = act(admin_client, "erase_person_data", ALICE_COOKIE)
    assert page.status_code == 200
    assert "Yes, I’m sure" in page.text and "user alice" in page.text and 'value="erase_person_data"' in page.text
    assert Event.objects.filter(user=alice).exists()  # nothing erased before confirming

    response = act(admin_client, "erase_person_data", ALICE_COOKIE, post="yes")
    assert response.status_code == 302
    assert set(Event.objects.values_list("visitor_id", flat=True)) == {BOB_COOKIE}
    assert list(Visitor.objects.values_list("key", flat=True)) == [BOB_COOKIE]


def test_staff_without_permission_cannot_erase(staff_client, alice):
    changelist = staff_client.get(reverse(CHANGELIST))
    assert "erase_person_data" not in dict(changelist.context["action_form"].fields["action"].choices)
    act(staff_client, "erase_person_data", ALICE_COOKIE, post="yes")
    assert Event.objects.count() == 4 and Visitor.objects.count() == 2
    # Viewing visitors and events is enough to export.
    assert act(staff_client, "export_person_data", ALICE_COOKIE)["Content-Type"] == "application/json"
