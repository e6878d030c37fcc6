"""Fixtures for the shop's domain services: shoppers with their own session, and placed orders."""
from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from shop.services.checkout import ShippingAddress, place_order
from tests.factories import ProductFactory, UserFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The factories set a password for every user; the default PBKDF2 would dominate these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Shopper:
    """One browser: a session, a visitor id and (after sign-in) a user, across several requests."""

    def __init__(self, user=None) -> None:
        self.session = SessionStore()
        self.user = user or AnonymousUser()
        self.visitor_id = uuid.uuid4().hex

    def request(self):
        request = RequestFactory().post("/")
        request.session = self.session
        request.user = self.user
        request.visitor_id = self.visitor_id
        request.ai_tracking = True
        return request


@pytest.fixture
def shopper(db) -> Shopper:
    return Shopper()


@pytest.fixture
def customer(db):
    return UserFactory(email="ada@example.com")


@pytest.fixture
def signed_in(customer) -> Shopper:
    return Shopper(customer)


@pytest.fixture
def product(db):
    return ProductFactory(stock=10)


@pytest.fixture
def address() -> ShippingAddress:
    return ShippingAddress(name="Ada Lovelace", line1="12 St James's Square", city="London", postcode="SW1Y 4JH", country="United Kingdom")


@pytest.fixture
def checkout(address):
    """place_order with sensible defaults; keyword arguments override them."""

    def _checkout(basket, user=None, **overrides):
        values = dict(
            basket=basket,
            user=user,
            email="ada@example.com",
            address=address,
            shipping_method="standard",
            payment_method="pay_on_delivery",
        )
        values.update(overrides)
        return place_order(**values)

    return _checkout
