from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShopDemoConfig(AppConfig):
    name = "shop_demo"
    verbose_name = _("Demo shop")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .catalog.names import forget_categories
        from .models import Category

        post_save.connect(forget_categories, sender=Category, dispatch_uid="shop_demo.forget_categories")
        post_delete.connect(forget_categories, sender=Category, dispatch_uid="shop_demo.forget_categories_deleted")
