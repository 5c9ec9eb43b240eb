from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("Personalized promotions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_delete, post_save

        from . import checks  # noqa: F401 - registers the system checks
        from .experiments.signals import transfer_assignments
        from .offers.models import Promotion
        from .offers.service import forget_live_promotions
        from .products import get_product_model
        from .tracking import buffer, signals  # noqa: F401 - connects the receivers

        # After the tracking receiver (connected on import above), which links the visitor first.
        user_logged_in.connect(transfer_assignments, dispatch_uid="promotions-transfer-assignments")
        post_save.connect(forget_live_promotions, sender=Promotion, dispatch_uid="promotions-forget-live")
        post_delete.connect(forget_live_promotions, sender=Promotion, dispatch_uid="promotions-forget-live")

        try:
            product_model = get_product_model()
        except (LookupError, ValueError):
            return  # misconfigured: the system check promotions.E003 says so
        post_save.connect(buffer.forget_product, sender=product_model, dispatch_uid="promotions-forget-product")
        post_delete.connect(buffer.forget_product, sender=product_model, dispatch_uid="promotions-forget-product")
