"""Forms of the demo shop: cart quantities, checkout and reviews."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .cart import MAX_QUANTITY
from .models import Review


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=MAX_QUANTITY, initial=1)


class CartQuantityForm(forms.Form):
    """A new quantity for a cart line; zero removes the line."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=0, max_value=MAX_QUANTITY)


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum that card numbers carry."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


class CouponForm(forms.Form):
    """A coupon code typed by the customer; an empty code removes the current one."""

    code = forms.CharField(
        label=_("Coupon code"), max_length=64, required=False, validators=[RegexValidator(r"^[A-Za-z0-9_-]*$")]
    )


class CheckoutForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    shipping_address = forms.CharField(
        label=_("Shipping address"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    card_number = forms.CharField(
        label=_("Card number"),
        max_length=40,
        help_text=_("This shop is a demo: no card is charged. A number ending in 0000 is declined."),
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    #: The signed quote of the total shown on the page (``promotions.checkout``): the order is
    #: charged exactly that, or stopped with the new total to confirm.
    quote = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    def clean_card_number(self) -> str:
        """The card number as bare digits, checked for length and checksum."""
        digits = "".join(char for char in self.cleaned_data["card_number"] if char not in " -")
        if not digits.isascii() or not digits.isdigit() or not 12 <= len(digits) <= 19:
            raise ValidationError(_("Enter a card number of 12 to 19 digits."), code="format")
        if not luhn_valid(digits):
            raise ValidationError(_("This card number is not valid; please check it."), code="checksum")
        return digits


class ReviewForm(forms.ModelForm):
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[(stars, str(stars)) for stars in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Review
        fields = ["rating", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}


class SignUpForm(UserCreationForm):
    """Django's sign-up form; the e-mail is optional and fills the checkout form later."""

    email = forms.EmailField(label=_("E-mail"), required=False)

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
