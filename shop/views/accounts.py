"""Sign up, sign in (both through shop.services.accounts.sign_in so the basket follows) and order history."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy

from shop.forms import SignUpForm
from shop.models import Order
from shop.services.accounts import sign_in

from .utils import paginate, safe_next, url_text

ORDERS_PER_PAGE = 20


class SignInView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        # sign_in logs in, merges the anonymous basket and links the visitor's behaviour to the account.
        sign_in(self.request, form.get_user())
        return redirect(self.get_success_url())


class SignOutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


def sign_up(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("shop:account")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        sign_in(request, user)
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return redirect(safe_next(request, reverse("shop:account")))
    next_url = safe_next(request, "")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@login_required
def account(request: HttpRequest) -> HttpResponse:
    orders = (
        Order.objects.filter(user=request.user)  # type: ignore[misc]  # login_required: never AnonymousUser
        .annotate(item_count=Sum("lines__quantity"), line_count=Count("lines"))
        .order_by("-placed_at", "-pk")
    )
    page, page_note = paginate(request, orders, per_page=ORDERS_PER_PAGE)
    return render(
        request,
        "shop/account.html",
        {"page": page, "orders": page.object_list, "notices": [page_note] if page_note else []},
    )


@login_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    # Another shopper's order is a 404, not a 403: it does not reveal that the number exists.
    order = get_object_or_404(Order, number=url_text(number), user=request.user)
    lines = list(order.lines.select_related("product"))
    history = list(order.status_changes.select_related("merchant"))
    # An order with several merchants' products: each merchant's part ships (or is cancelled) on its own.
    parts = list(order.parts.select_related("merchant").order_by("merchant__name", "pk"))
    context = {"order": order, "lines": lines, "history": history, "parts": parts if len(parts) > 1 else []}
    return render(request, "shop/order_detail.html", context)


password_reset = auth_views.PasswordResetView.as_view(
    template_name="registration/password_reset_form.html",
    email_template_name="registration/password_reset_email.html",
    subject_template_name="registration/password_reset_subject.txt",
    success_url=reverse_lazy("shop:password_reset_done"),
)
password_reset_done = auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html")
password_reset_confirm = auth_views.PasswordResetConfirmView.as_view(
    template_name="registration/password_reset_confirm.html", success_url=reverse_lazy("shop:password_reset_complete")
)
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="registration/password_reset_complete.html"
)
