"""URLs of the promotions app: include them under a prefix, e.g. ``path("promotions/", include("promotions.urls"))``."""

from django.urls import path

from .api.content import PromotionsView, RecommendationsView
from .api.views import EventBeaconView
from .campaigns.views import campaign_link
from .ops import views as ops_views

app_name = "promotions"

urlpatterns = [
    path("api/events/", EventBeaconView.as_view(), name="events"),
    path("api/promotions/", PromotionsView.as_view(), name="promotions"),
    path("api/recommendations/", RecommendationsView.as_view(), name="recommendations"),
    path("c/<str:token>/", campaign_link, name="campaign_link"),
    path("health/", ops_views.health, name="health"),
    path("metrics/", ops_views.prometheus_metrics, name="metrics"),
]
