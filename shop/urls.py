"""The storefront's URLs (namespace "shop")."""
from django.urls import path

from shop.views import accounts, basket, catalogue, checkout, placeholders

app_name = "shop"
urlpatterns = [
    path("", catalogue.home, name="home"),
    path("placeholder/<int:hue>/<str:letters>.svg", placeholders.placeholder, name="placeholder"),
    path("c/<path:path>/", catalogue.category_detail, name="category"),
    path("p/<int:pk>-<str:slug>/", catalogue.product_detail, name="product"),
    path("search/", catalogue.search, name="search"),
    path("basket/", basket.basket_detail, name="basket"),
    path("basket/add/", basket.basket_add, name="basket_add"),
    path("basket/update/", basket.basket_update, name="basket_update"),
    path("basket/remove/", basket.basket_remove, name="basket_remove"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("orders/<str:number>/confirmation/", checkout.order_confirmation, name="order_confirmation"),
    path("account/", accounts.account, name="account"),
    path("account/orders/<str:number>/", accounts.order_detail, name="order_detail"),
    path("account/signup/", accounts.sign_up, name="signup"),
    path("account/login/", accounts.SignInView.as_view(), name="login"),
    path("account/logout/", accounts.SignOutView.as_view(), name="logout"),
    path("account/password-reset/", accounts.password_reset, name="password_reset"),
    path("account/password-reset/sent/", accounts.password_reset_done, name="password_reset_done"),
    path("account/reset/<uidb64>/<token>/", accounts.password_reset_confirm, name="password_reset_confirm"),
    path("account/reset/done/", accounts.password_reset_complete, name="password_reset_complete"),
]
