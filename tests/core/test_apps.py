"""PromotionsConfig.ready wires the receivers, in the order login needs, and survives a bad product model."""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.test import override_settings

from promotions.experiments.signals import transfer_assignments
from promotions.tracking import buffer
from promotions.tracking.signals import link_visitor_to_user
from shop_demo.models import Product


def receivers(signal, sender=None):
    """The signal's connected synchronous receivers for ``sender``, in call order."""
    return list(signal._live_receivers(sender)[0])


def test_product_changes_reach_the_pk_cache():
    assert buffer.forget_product in receivers(post_save, Product)
    assert buffer.forget_product in receivers(post_delete, Product)


def test_login_links_the_visitor_before_moving_its_assignments():
    order = receivers(user_logged_in)
    assert order.index(link_visitor_to_user) < order.index(transfer_assignments)


def test_ready_survives_a_misconfigured_product_model():
    with override_settings(PROMOTIONS_PRODUCT_MODEL="nowhere.Product"):
        apps.get_app_config("promotions").ready()  # the system check E003 reports it instead
