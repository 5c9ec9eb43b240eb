"""URLs of the demo shop."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("promotions/", include("promotions.urls")),
    path("", include("shop_demo.shop_urls")),
]
