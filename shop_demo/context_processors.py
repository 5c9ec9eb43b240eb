from django.conf import settings


def shop(request):
    """Shop-wide template variables: the currency and the number of items in the cart."""
    cart = request.session.get("cart", {}) if hasattr(request, "session") else {}
    return {"currency": settings.SHOP_CURRENCY, "cart_count": sum(cart.values())}
