from django.contrib.auth import views as auth_views
from django.urls import path

from . import headless, views

app_name = "shop"

urlpatterns = [
    path("", views.home, name="home"),
    path("category/<slug:slug>/", views.category, name="category"),
    path("search/", views.search, name="search"),
    path("product/<str:stock_code>/", views.product_detail, name="product"),
    path("product/<str:stock_code>/review/", views.review, name="review"),
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/<str:stock_code>/", views.cart_add, name="cart_add"),
    path("cart/update/<str:stock_code>/", views.cart_update, name="cart_update"),
    path("cart/remove/<str:stock_code>/", views.cart_remove, name="cart_remove"),
    path("cart/coupon/", views.cart_coupon, name="cart_coupon"),
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("consent/", views.consent, name="consent"),
    path("headless/", headless.page, name="headless"),
]
