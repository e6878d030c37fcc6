"""Sign up, sign in and out, password reset, order history and order detail."""
from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from ai.models import Event

from .conftest import basket_of, make_order


def add(client, product, quantity=1):
    client.post(reverse("shop:basket_add"), {"product_id": product.pk, "quantity": quantity})


def test_sign_up_signs_in_and_keeps_the_basket(client, product):
    add(client, product, 2)

    response = client.post(
        reverse("shop:signup"),
        {"username": "bob", "email": "bob@example.com", "password1": "a-long-unusual-pw-77", "password2": "a-long-unusual-pw-77"},
    )

    bob = get_user_model().objects.get(username="bob")
    assert response.status_code == 302 and response["Location"] == reverse("shop:account")
    assert int(client.session["_auth_user_id"]) == bob.pk
    assert basket_of(user=bob) == [(product.pk, 2)]


def test_sign_up_errors(client, user):
    response = client.post(
        reverse("shop:signup"), {"username": "carol", "email": "ALICE@example.com", "password1": "x", "password2": "y"}
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "email" in errors and "password2" in errors
    assert not get_user_model().objects.filter(username="carol").exists()


def test_sign_in_merges_the_anonymous_basket_and_identifies_the_visitor(client, product, user):
    client.get(product.get_absolute_url())  # an anonymous view event
    add(client, product, 2)

    response = client.post(reverse("shop:login"), {"username": "alice", "password": "correct-horse-battery"})

    assert response.status_code == 302 and response["Location"] == reverse("shop:account")
    assert basket_of(user=user) == [(product.pk, 2)]
    assert Event.objects.filter(event_type="view", product_id=product.pk, user=user).exists()
    page = client.get(reverse("shop:basket"))
    assert page.context["basket_count"]() == 2


def test_sign_in_follows_next_but_not_off_site(client, user):
    ok = client.post(reverse("shop:login") + "?next=/basket/", {"username": "alice", "password": "correct-horse-battery", "next": "/basket/"})
    client.post(reverse("shop:logout"))
    evil = client.post(reverse("shop:login"), {"username": "alice", "password": "correct-horse-battery", "next": "https://evil.example/"})

    assert ok["Location"] == "/basket/"
    assert evil["Location"] == reverse("shop:account")


def test_wrong_password_is_a_form_error(client, user):
    response = client.post(reverse("shop:login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_post_only(client, user):
    client.force_login(user)

    assert client.get(reverse("shop:logout")).status_code == 405
    response = client.post(reverse("shop:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("shop:home")
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_working_link(client, user):
    response = client.post(reverse("shop:password_reset"), {"email": "alice@example.com"})
    assert response["Location"] == reverse("shop:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Reset your Aisle password"
    link = re.search(r"http://testserver(/account/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"}
    )
    assert done["Location"] == reverse("shop:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-42")


def test_password_reset_for_unknown_email_reveals_nothing(client, db):
    response = client.post(reverse("shop:password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("shop:password_reset_done")
    assert mail.outbox == []


def test_account_needs_sign_in(client, db):
    response = client.get(reverse("shop:account"))

    assert response.status_code == 302 and response["Location"].startswith(reverse("shop:login"))


def test_order_history_lists_only_own_orders_newest_first(client, product, user):
    from tests.factories import UserFactory

    make_order(user, [product], number="AIS-OLD")
    make_order(user, [product], number="AIS-NEW")
    make_order(UserFactory(), [product], number="AIS-OTHER")
    client.force_login(user)

    response = client.get(reverse("shop:account"))

    assert [o.number for o in response.context["orders"]] == ["AIS-NEW", "AIS-OLD"]
    assert "AIS-OTHER" not in response.content.decode()


def test_order_detail_shows_lines_and_someone_elses_is_404(client, product, user):
    from tests.factories import UserFactory

    mine = make_order(user, [product], number="AIS-MINE")
    theirs = make_order(UserFactory(), [product], number="AIS-THEIRS")
    client.force_login(user)

    response = client.get(mine.get_absolute_url())
    assert response.status_code == 200
    assert product.title in response.content.decode() and "£8.20" in response.content.decode()
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(reverse("shop:order_detail", kwargs={"number": "NOPE"})).status_code == 404


def test_a_mixed_order_shows_each_sellers_part(client, product, user):
    from shop.models import Basket, BasketLine, OrderStatus
    from shop.services.checkout import place_order
    from shop.services.orders import transition
    from tests.factories import MerchantFactory, ProductFactory

    other = ProductFactory(merchant=MerchantFactory(name="Brass & Co"), title="Brass Lamp", stock=4)
    basket = Basket.objects.create(user=user)
    BasketLine.objects.create(basket=basket, product=product, quantity=1)
    BasketLine.objects.create(basket=basket, product=other, quantity=1)
    order = place_order(basket=basket, user=user, email=user.email, shipping_method="standard",
                        payment_method="pay_on_delivery",
                        address={"name": "Alice", "line1": "1 High St", "city": "Bath", "postcode": "BA1 1AA",
                                 "country": "UK"})
    transition(order, OrderStatus.PAID, merchant_ids=[product.merchant_id], actor="test")
    transition(order, OrderStatus.SHIPPED, merchant_ids=[product.merchant_id], actor="test")
    transition(order, OrderStatus.CANCELLED, merchant_ids=[other.merchant_id], actor="test")
    client.force_login(user)

    response = client.get(order.get_absolute_url())

    assert [(p.merchant.name, p.status) for p in response.context["parts"]] == [
        ("Aisle Home", "shipped"), ("Brass & Co", "cancelled"),
    ]
    html = response.content.decode()
    assert "Sent by" in html and "Aisle Home: Shipped" in html and "Brass &amp; Co: Cancelled" in html
    assert response.context["order"].status == "shipped"
    # An order from one seller shows no parts section.
    single = make_order(user, [product], number="AIS-ONE")
    assert "Sent by" not in client.get(single.get_absolute_url()).content.decode()
