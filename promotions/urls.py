"""URLs of the promotions app: include them under a prefix, e.g. ``path("promotions/", include("promotions.urls"))``."""

from django.urls import path

from .api import headless
from .api.content import PromotionsView, RecommendationsView
from .api.schema import RedocView, SchemaView, SwaggerView
from .api.views import EventBeaconView
from .campaigns.views import campaign_link
from .ops import views as ops_views

app_name = "promotions"

urlpatterns = [
    path("api/events/", EventBeaconView.as_view(), name="events"),
    path("api/promotions/", PromotionsView.as_view(), name="promotions"),
    path("api/recommendations/", RecommendationsView.as_view(), name="recommendations"),
    path("c/<str:token>/", campaign_link, name="campaign_link"),
    path("api/v1/recommendations/", headless.RecommendationsByPersonView.as_view(), name="api-recommendations"),
    path("api/v1/similar/", headless.SimilarItemsView.as_view(), name="api-similar"),
    path("api/v1/promotions/", headless.PromotionsByPersonView.as_view(), name="api-promotions"),
    path("api/v1/events/", headless.EventsView.as_view(), name="api-events"),
    path("api/v1/baskets/price/", headless.BasketPriceView.as_view(), name="api-basket-price"),
    path("api/v1/baskets/redeem/", headless.BasketRedeemView.as_view(), name="api-basket-redeem"),
    path("api/v1/baskets/refund/", headless.BasketRefundView.as_view(), name="api-basket-refund"),
    path("api/schema/", SchemaView.as_view(), name="schema"),
    path("api/schema/swagger/", SwaggerView.as_view(), name="schema-swagger"),
    path("api/schema/redoc/", RedocView.as_view(), name="schema-redoc"),
    path("health/", ops_views.health, name="health"),
    path("metrics/", ops_views.prometheus_metrics, name="metrics"),
]
