from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsOscarConfig(AppConfig):
    name = "promotions.contrib.oscar"
    label = "promotions_oscar"
    verbose_name = _("Personalized promotions for django-oscar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import (
            checks,  # noqa: F401 - registers the Oscar checks
            receivers,
        )

        receivers.connect(self)
