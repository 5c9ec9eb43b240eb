from django.apps import AppConfig
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


def register_privacy() -> None:
    """Every per-person cache name and every section of a person's data, for export and erasure,
    in every process (a management command imports no serving module)."""
    from .api.keys import ApiKey
    from .api.privacy import erase_api_keys, export_api_keys
    from .campaigns.models import Recipient, Unsubscribe
    from .campaigns.privacy import erase_campaign_rows, export_campaign_rows
    from .experiments.models import Assignment
    from .experiments.privacy import erase_assignments, export_assignments
    from .offers.models import Redemption
    from .offers.privacy import erase_redemptions, export_redemptions
    from .tracking import personcache, privacy
    from .training.erasure import erase_models, export_models
    from .training.models import ModelVersion

    for entry in personcache.DECLARED:
        privacy.register_person_cache_name(entry)
    # Export order; erasure runs backwards (the artifacts and other tables before the events).
    privacy.register_builtin_sections()
    privacy.register_person_data("assignments", export_assignments, erase_assignments, [Assignment])
    privacy.register_person_data("redemptions", export_redemptions, erase_redemptions, [Redemption])
    privacy.register_person_data("models", export_models, erase_models, [ModelVersion])
    privacy.register_person_data("campaigns", export_campaign_rows, erase_campaign_rows, [Recipient, Unsubscribe])
    privacy.register_person_data("api_keys", export_api_keys, erase_api_keys, [ApiKey])


def fill_registries() -> None:
    """Fill the registries ``promotions.registry`` declares (also idempotent: each is replaced whole)."""
    from . import registry
    from .offers import service
    from .visitors import prefetch

    prefetch.STANDARD_NAMES[:] = registry.PREFETCHED
    prefetch.NAME_PROVIDERS[:] = [import_string(path) for path in registry.NAME_PROVIDERS]
    service.WITHHOLDERS[:] = [import_string(path) for path in registry.WITHHOLDERS]
    registry.set_forgetters([import_string(path) for path in registry.PROCESS_CACHES])


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("Personalized promotions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_save

        from . import (
            checks,  # noqa: F401 - registers the system checks
            registry,
        )
        from .api.keys import ApiKey, forget_saved_key
        from .cards import forget_cards
        from .experiments.signals import transfer_assignments
        from .offers.models import Promotion, SlotConfig, SlotRule
        from .offers.service import forget_live_promotions
        from .ops import checks as ops_checks  # noqa: F401 - registers the deployment checks
        from .products import get_product_model
        from .serving.decide import forget_slot_configs
        from .serving.merchandising import forget_rules
        from .tracking import buffer, signals  # noqa: F401 - connects the receivers
        from .training.models import ModelVersion
        from .training.versions import forget_active

        fill_registries()
        setting_changed.connect(registry.forget_on_setting_change, dispatch_uid="promotions-forget-all")
        # After the tracking receiver (connected on import above), which links the visitor first.
        user_logged_in.connect(transfer_assignments, dispatch_uid="promotions-transfer-assignments")
        post_save.connect(forget_live_promotions, sender=Promotion, dispatch_uid="promotions-forget-live")
        post_delete.connect(forget_live_promotions, sender=Promotion, dispatch_uid="promotions-forget-live")
        post_save.connect(forget_slot_configs, sender=SlotConfig, dispatch_uid="promotions-forget-slots")
        post_delete.connect(forget_slot_configs, sender=SlotConfig, dispatch_uid="promotions-forget-slots")
        post_save.connect(forget_rules, sender=SlotRule, dispatch_uid="promotions-forget-rules")
        post_delete.connect(forget_rules, sender=SlotRule, dispatch_uid="promotions-forget-rules")
        post_save.connect(forget_active, sender=ModelVersion, dispatch_uid="promotions-forget-active")
        post_delete.connect(forget_active, sender=ModelVersion, dispatch_uid="promotions-forget-active")
        post_save.connect(forget_saved_key, sender=ApiKey, dispatch_uid="promotions-forget-key")
        post_delete.connect(forget_saved_key, sender=ApiKey, dispatch_uid="promotions-forget-key")
        register_privacy()

        try:
            product_model = get_product_model()
        except (LookupError, ValueError):
            return  # misconfigured: the system check promotions.E003 says so
        post_save.connect(buffer.forget_product, sender=product_model, dispatch_uid="promotions-forget-product")
        post_delete.connect(buffer.forget_product, sender=product_model, dispatch_uid="promotions-forget-product")
        post_save.connect(forget_cards, sender=product_model, dispatch_uid="promotions-forget-cards")
        post_delete.connect(forget_cards, sender=product_model, dispatch_uid="promotions-forget-cards")
