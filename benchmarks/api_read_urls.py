"""The demo's URLs and ``/bench/constant/``: a DRF view with no authentication, permission or
throttle that answers a constant, the floor any DRF endpoint stands on."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from shop_demo.urls import handler500  # noqa: F401 - the demo's 500 page
from shop_demo.urls import urlpatterns as shop_urlpatterns


class Constant(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def get(self, request, *args, **kwargs):
        return Response({"ok": True})


urlpatterns = [path("bench/constant/", Constant.as_view()), *shop_urlpatterns]
