from django.conf import settings
from django.http import HttpRequest

from .cart import SESSION_KEY
from .consent import has_answered


def shop(request: HttpRequest) -> dict:
    """Shop-wide template variables: the currency, the cart's item count and whether to ask for consent."""
    cart = request.session.get(SESSION_KEY, {}) if hasattr(request, "session") else {}
    return {
        "currency": settings.SHOP_CURRENCY,
        "cart_count": sum(cart.values()),
        "show_consent_banner": not has_answered(request),
    }
