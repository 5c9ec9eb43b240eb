"""URLs of the demo shop."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("promotions/", include("promotions.urls")),
    # The language switcher in the header posts to set_language (django.views.i18n).
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("shop_demo.shop_urls")),
]

# A database outage answers a friendly 503 page; other errors keep Django's 500.
handler500 = "shop_demo.errors.server_error"
