"""Pages of the demo shop."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render

from .models import Category, Product

PAGE_SIZE = 24


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def home(request):
    categories = Category.objects.annotate(product_count=Count("products")).filter(product_count__gt=0)
    products = Product.objects.select_related("category").filter(in_stock=True)
    return render(request, "shop/product_list.html", {"categories": categories, "page": _page(request, products)})


def category(request, slug):
    current = get_object_or_404(Category, slug=slug)
    products = current.products.select_related("category").filter(in_stock=True)
    return render(request, "shop/product_list.html", {"category": current, "page": _page(request, products)})


def search(request):
    query = request.GET.get("q", "").strip()[:100]
    products = Product.objects.none()
    if query:
        products = Product.objects.select_related("category").filter(
            Q(title__icontains=query) | Q(description__icontains=query) | Q(stock_code__iexact=query), in_stock=True
        )
    return render(request, "shop/product_list.html", {"query": query, "page": _page(request, products)})


def product_detail(request, stock_code):
    product = get_object_or_404(Product.objects.select_related("category", "brand"), stock_code=stock_code)
    return render(request, "shop/product_detail.html", {"product": product})
