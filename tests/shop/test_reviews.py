from django.urls import reverse

from shop_demo.models import Review


def review_url(product) -> str:
    return reverse("shop:review", args=[product.stock_code])


def test_customer_reviews_a_product(customer_client, customer, mug):
    response = customer_client.post(review_url(mug), {"rating": "4", "text": "Holds tea."})
    assert response.status_code == 302
    assert response.url == mug.get_absolute_url()
    review = Review.objects.get()
    assert (review.user, review.product, review.rating, review.text) == (customer, mug, 4, "Holds tea.")


def test_a_second_review_updates_the_first(customer_client, mug):
    customer_client.post(review_url(mug), {"rating": "4", "text": "Holds tea."})
    customer_client.post(review_url(mug), {"rating": "2", "text": "Chipped."})
    review = Review.objects.get()
    assert (review.rating, review.text) == (2, "Chipped.")
    page = customer_client.get(mug.get_absolute_url())
    assert page.context["review_form"].instance == review
    assert "Update your review" in page.text


def test_bad_rating_is_a_form_error(customer_client, mug):
    response = customer_client.post(review_url(mug), {"rating": "9", "text": ""})
    assert response.status_code == 200
    assert "rating" in response.context["review_form"].errors
    assert Review.objects.count() == 0


def test_anonymous_visitor_cannot_review(client, mug):
    response = client.post(review_url(mug), {"rating": "5"})
    assert response.status_code == 302
    assert response.url == f"{reverse('shop:login')}?next=/product/MUG1/"
    assert Review.objects.count() == 0
    assert "Sign in to write a review." in client.get(mug.get_absolute_url()).text


def test_review_refuses_get(customer_client, mug):
    assert customer_client.get(review_url(mug)).status_code == 405
