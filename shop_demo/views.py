"""Pages of the demo shop: catalogue, cart, checkout, orders, accounts, reviews and consent."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from promotions import checkout as promotions_checkout
from promotions.tracking import set_search_results, track
from promotions.tracking.signals import order_placed, product_added_to_cart, product_removed_from_cart

from .cart import (
    Cart,
    EmptyCart,
    OutOfStock,
    PaymentDeclined,
    out_of_stock,
    place_order,
    price_lines,
)
from .consent import ACCEPTED, DECLINED, remember_answer
from .forms import AddToCartForm, CartQuantityForm, CheckoutForm, CouponForm, ReviewForm, SignUpForm
from .models import Category, Order, Product, Review

PAGE_SIZE = 24
ORDERS_PAGE_SIZE = 20
#: Session key of the orders placed in this session, so an anonymous buyer can see their confirmation.
PLACED_ORDERS_KEY = "placed_orders"
MAX_PLACED_ORDERS = 20


def _page(request: HttpRequest, queryset: QuerySet, page_size: int | None = None) -> Page:
    return Paginator(queryset, page_size or PAGE_SIZE).get_page(request.GET.get("page"))


def _catalogue() -> QuerySet[Product]:
    return Product.objects.select_related("category")


# --- Catalogue ---------------------------------------------------------------------


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    # Meta.ordering is ignored by aggregate (GROUP BY) queries: order explicitly.
    categories = Category.objects.annotate(product_count=Count("products")).filter(product_count__gt=0).order_by("name")
    return render(request, "shop/home.html", {"categories": categories, "page": _page(request, _catalogue())})


@require_safe
def category(request: HttpRequest, slug: str) -> HttpResponse:
    current = get_object_or_404(Category, slug=slug)
    products = _catalogue().filter(category=current)
    return render(request, "shop/product_list.html", {"category": current, "page": _page(request, products)})


@require_safe
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    products = Product.objects.none()
    if query:
        products = _catalogue().filter(
            Q(title__icontains=query) | Q(description__icontains=query) | Q(stock_code__iexact=query)
        )
    page = _page(request, products)
    set_search_results(request, page.paginator.count)
    return render(request, "shop/product_list.html", {"query": query, "page": page})


@require_safe
def product_detail(request: HttpRequest, stock_code: str) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("category", "brand"), stock_code=stock_code)
    own_review = (
        Review.objects.filter(user=request.user, product=product).first() if request.user.is_authenticated else None
    )
    return _product_page(request, product, ReviewForm(instance=own_review))


def _product_page(request: HttpRequest, product: Product, review_form: ReviewForm) -> HttpResponse:
    reviews = product.reviews.select_related("user")
    context = {
        "product": product,
        "reviews": reviews,
        "rating": reviews.aggregate(average=Avg("rating"), count=Count("id")),
        "add_form": AddToCartForm(),
        "review_form": review_form,
    }
    return render(request, "shop/product_detail.html", context)


@require_POST
def review(request: HttpRequest, stock_code: str) -> HttpResponse:
    """Create the customer's review of the product, or update the one they wrote before."""
    product = get_object_or_404(Product.objects.select_related("category", "brand"), stock_code=stock_code)
    if not request.user.is_authenticated:
        # Back to the product page after signing in: this URL only answers POST.
        return redirect_to_login(product.get_absolute_url())
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _product_page(request, product, form)
    # update_or_create keeps one review per customer and product, even under a double submit.
    Review.objects.update_or_create(user=request.user, product=product, defaults=form.cleaned_data)
    track(request, "rating", product=product, rating=form.cleaned_data["rating"])
    if form.cleaned_data.get("text"):
        track(request, "review", product=product, review_text=form.cleaned_data["text"])
    messages.success(request, _("Thank you for your review."))
    return redirect(product)


# --- Cart --------------------------------------------------------------------------


@require_safe
def cart_detail(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/cart.html", _cart_context(request, Cart(request)))


def _cart_context(request: HttpRequest, cart: Cart, basket: promotions_checkout.PricedBasket | None = None) -> dict:
    lines = cart.lines()
    basket = basket or price_lines(request, cart, lines)
    return {
        "lines": lines,
        "cart_products": [line.product for line in lines],
        "priced": basket,
        "applied_promotions": basket.applied,
        "not_applied": basket.not_applied,
        "total": basket.total,
        "coupon_code": cart.coupon_code,
        "out_of_stock": out_of_stock(lines),
    }


@require_POST
def cart_coupon(request: HttpRequest) -> HttpResponse:
    form = CouponForm(request.POST)
    cart = Cart(request)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("code", [])))
        return redirect("shop:cart")
    code = form.cleaned_data["code"].upper()
    cart.set_coupon_code(code)
    if code:
        # Said only when the code really gives a discount; else why not (the cart lists what applies).
        basket = price_lines(request, cart, cart.lines())
        refused = basket.not_applied_for(code)
        if refused is not None:
            if not basket.lines:  # else the cart lists why, under its discounts
                messages.error(request, refused.message)
        elif code in basket.applied_codes():
            messages.success(request, _("The code %(code)s was applied.") % {"code": code})
        else:
            messages.info(
                request,
                _("The code %(code)s was saved; it applies once its products are in your cart.") % {"code": code},
            )
    return redirect("shop:cart")


@require_POST
def cart_add(request: HttpRequest, stock_code: str) -> HttpResponse:
    product = get_object_or_404(Product, stock_code=stock_code)
    form = AddToCartForm(request.POST)
    if not product.in_stock:
        messages.error(request, _("Sorry, %(title)s is out of stock.") % {"title": product.title})
        return redirect(product)
    if not form.is_valid():
        messages.error(request, _("Please enter a valid quantity."))
        return redirect(product)
    Cart(request).add(product, form.cleaned_data["quantity"])
    product_added_to_cart.send(Product, request=request, product=product, quantity=form.cleaned_data["quantity"])
    messages.success(request, _("%(title)s was added to your cart.") % {"title": product.title})
    return redirect("shop:cart")


@require_POST
def cart_update(request: HttpRequest, stock_code: str) -> HttpResponse:
    product = get_object_or_404(Product, stock_code=stock_code)
    form = CartQuantityForm(request.POST)
    if form.is_valid():
        Cart(request).set(product, form.cleaned_data["quantity"])
    else:
        messages.error(request, _("Please enter a valid quantity."))
    return redirect("shop:cart")


@require_POST
def cart_remove(request: HttpRequest, stock_code: str) -> HttpResponse:
    product = get_object_or_404(Product, stock_code=stock_code)
    cart = Cart(request)
    quantity = cart.quantities.get(product.stock_code, 0)
    cart.remove(product)
    if quantity:
        product_removed_from_cart.send(Product, request=request, product=product, quantity=quantity)
    messages.info(request, _("%(title)s was removed from your cart.") % {"title": product.title})
    return redirect("shop:cart")


# --- Checkout and orders -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    cart = Cart(request)
    if not cart:
        messages.info(request, _("Your cart is empty."))
        return redirect("shop:cart")
    form = CheckoutForm(
        request.POST if request.method == "POST" else None, initial={"email": getattr(request.user, "email", "")}
    )
    basket = None
    if request.method == "POST" and form.is_valid():
        try:
            order, placed = place_order(request, cart, **form.cleaned_data)
        except EmptyCart:
            messages.info(request, _("Your cart is empty."))
            return redirect("shop:cart")
        except OutOfStock as error:
            titles = ", ".join(product.title for product in error.products)
            form.add_error(None, _("Out of stock: %(titles)s. Please remove it from your cart.") % {"titles": titles})
        except PaymentDeclined:
            form.add_error("card_number", _("Your card was declined. Please use another card."))
        except promotions_checkout.CheckoutError as error:
            # Nothing was charged: the page shows the new total (with its quote) to confirm.
            form.add_error(None, error.message)
            basket = error.new_basket
        else:
            if placed:
                lines = [
                    (line.product, line.quantity, line.unit_price) for line in order.lines.select_related("product")
                ]
                order_placed.send(Order, request=request, lines=lines, order_id=order.pk)
                messages.success(request, _("Thank you! Your payment was accepted and your order is on its way."))
            else:
                cart.clear()  # a repeated submit of a cart that is already an order
            placed_orders = [pk for pk in request.session.get(PLACED_ORDERS_KEY, []) if pk != order.pk]
            request.session[PLACED_ORDERS_KEY] = [*placed_orders, order.pk][-MAX_PLACED_ORDERS:]
            return redirect("shop:order", order.pk)
    context = _cart_context(request, cart, basket)
    if form.is_bound:  # the page now shows this quote: a confirmation pays exactly that
        form.data = form.data.copy()
        form.data["quote"] = context["priced"].quote
    else:
        form.initial["quote"] = context["priced"].quote
    return render(request, "shop/checkout.html", {"form": form, **context})


@require_safe
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.prefetch_related("lines__product"), pk=pk)
    if not _may_see(request, order):
        raise Http404
    return render(request, "shop/order_detail.html", {"order": order})


def _may_see(request: HttpRequest, order: Order) -> bool:
    """Customers see their own orders; a buyer without an account sees those placed in this session."""
    own = request.user.is_authenticated and order.user_id == request.user.pk
    return own or order.pk in request.session.get(PLACED_ORDERS_KEY, [])


@require_safe
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = request.user.orders.prefetch_related("lines")
    return render(request, "shop/order_list.html", {"page": _page(request, orders, ORDERS_PAGE_SIZE)})


# --- Accounts and consent ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("shop:home")
    form = SignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Named: with django-axes there are two backends, and a new account was checked by none.
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome! Your account was created."))
        return redirect("shop:home")
    return render(request, "registration/signup.html", {"form": form})


@require_POST
def consent(request: HttpRequest) -> HttpResponse:
    """Store the visitor's answer to the consent banner and go back to the page they were on."""
    answer = request.POST.get("answer")
    if answer not in (ACCEPTED, DECLINED):
        return HttpResponseBadRequest(_("Unknown answer."))
    response = redirect(_safe_next_url(request))
    remember_answer(response, accepted=answer == ACCEPTED, secure=request.is_secure())
    return response


def _safe_next_url(request: HttpRequest) -> str:
    """The ``next`` URL when it stays on this site, else the home page."""
    next_url = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure())
    return next_url if safe else "shop:home"
