"""URLs of the promotions app: include them under a prefix, e.g. ``path("promotions/", include("promotions.urls"))``."""

from django.urls import path

from .api.views import EventBeaconView

app_name = "promotions"

urlpatterns = [
    path("api/events/", EventBeaconView.as_view(), name="events"),
]
