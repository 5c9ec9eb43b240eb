"""Money as the shop's customers read it: "£2.95", "£1,250.00", "US$" where a symbol is ambiguous.

One helper for every page (the shop's product cards, promotion badges, the admin's analytics):
the amount is rounded half-up to cents, grouped with the active locale's separators (Django's
``number_format``), and written with the symbol of ``PROMOTIONS["CURRENCY"]``. A code this module
knows becomes its symbol before the amount; an unknown three-letter code follows the amount
("12.00 XTS"); any other text is taken as the shop's own symbol and put before it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from numbers import Number

from django.utils.formats import number_format

from .conf import app_settings

#: Symbols written before the amount, by ISO 4217 code.
SYMBOLS = {
    "GBP": "£",
    "EUR": "€",
    "USD": "$",
    "JPY": "¥",
    "CNY": "¥",
    "HKD": "HK$",
    "AUD": "A$",
    "CAD": "C$",
    "NZD": "NZ$",
    "SGD": "S$",
    "INR": "₹",
    "KRW": "₩",
    "CHF": "CHF\u00a0",
    "SEK": "SEK\u00a0",
}
CENT = Decimal("0.01")


def currency_symbol(currency: str | None = None) -> tuple[str, bool]:
    """(what to write, whether it goes before the amount) for ``currency`` (default: the setting)."""
    currency = (app_settings.CURRENCY if currency is None else currency).strip()
    if not currency:
        return "", True
    if currency.upper() in SYMBOLS:
        return SYMBOLS[currency.upper()], True
    if len(currency) == 3 and currency.isalpha() and currency.isupper():
        return currency, False
    return currency, True


def format_money(amount: Number | Decimal | str | None, currency: str | None = None, *, whole: bool = False) -> str:
    """``amount`` in the shop's currency format; ``whole=True`` drops ".00" from a whole amount
    (a badge reads "£5 off"). None gives a dash."""
    if amount is None:
        return "\u2013"
    cents = Decimal(str(amount)).quantize(CENT, ROUND_HALF_UP)  # number_format would truncate
    places = 0 if whole and cents == cents.to_integral_value() else 2
    text = number_format(abs(cents), places, force_grouping=True)
    sign = "-" if cents < 0 else ""
    symbol, before = currency_symbol(currency)
    if not symbol:
        return sign + text
    return f"{sign}{symbol}{text}" if before else f"{sign}{text}\u00a0{symbol}"
