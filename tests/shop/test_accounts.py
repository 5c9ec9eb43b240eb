from django.contrib.auth import get_user_model
from django.urls import reverse

from .conftest import PASSWORD


def test_sign_up_then_sign_in(client, db):
    response = client.post(
        reverse("shop:signup"),
        {"username": "carol", "email": "carol@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="carol")
    assert user.email == "carol@example.com"
    assert client.session["_auth_user_id"] == str(user.pk)  # signed in at once

    client.post(reverse("shop:logout"))
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("shop:login"), {"username": "carol", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("shop:home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_up_errors_are_shown(client, db):
    response = client.post(reverse("shop:signup"), {"username": "dave", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not get_user_model().objects.filter(username="dave").exists()


def test_wrong_password_is_refused(client, customer):
    response = client.post(reverse("shop:login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_account_pages_render(client, db):
    assert client.get(reverse("shop:login")).status_code == 200
    assert client.get(reverse("shop:signup")).status_code == 200


def test_header_offers_sign_out_to_customers(customer_client):
    text = customer_client.get(reverse("shop:home")).text
    assert reverse("shop:logout") in text
    assert reverse("shop:orders") in text


def test_sign_out_refuses_get(customer_client):
    assert customer_client.get(reverse("shop:logout")).status_code == 405
