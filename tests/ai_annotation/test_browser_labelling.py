"""Acceptance in Debian's chromium: keyboard-only labelling, undo, skip, Enter accepts the model's
suggestion; a second annotator disagrees on an overlap-2 set; a reviewer sets the gold label."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from ai.annotation.services import add_items
from ai.models import Annotation, Item, Label, LabelSet, Skip
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


def role_group(role: str) -> Group:
    """The role's group: made by ai's data migration and made again after each transactional test's flush."""
    return Group.objects.get(name=role)


def staff(username: str, role: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(role_group(role))
    return user


def sign_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto(page.base_url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def item_text_is(page, text: str) -> None:
    """Wait for the item on screen (a locator assertion: the page's CSP forbids the eval that
    `wait_for_function` with a string needs)."""
    from playwright.sync_api import expect

    expect(page.locator("[data-item=text]")).to_have_text(text)


def press_and_wait(page, key: str, next_text: str) -> None:
    page.keyboard.press(key)
    item_text_is(page, next_text)


def test_label_by_keyboard_then_disagree_then_review(browser_page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright's event loop
    page = browser_page
    label_set = LabelSet.objects.create(name="Chat intents", slug="chat-intents", overlap=2, guidelines="Pick **one** intent.")
    order, refund, other = (
        Label.objects.create(label_set=label_set, name=name, position=i, hotkey=key)
        for i, (name, key) in enumerate([("order", ""), ("refund", "r"), ("other", "")])
    )
    texts = [f"message {n}" for n in range(14)]
    add_items(label_set, texts, source="chat")
    suggested = Item.objects.get(text="message 11")
    Item.objects.filter(pk=suggested.pk).update(suggestion=refund, suggestion_score=0.83)
    staff("ann", "annotator"), staff("bob", "annotator"), staff("cat", "reviewer")

    sign_in(page, "ann")
    page.goto(page.base_url + reverse("admin:ai_labelset_label", args=[label_set.pk]))
    item_text_is(page, "message 0")
    assert "Pick <strong>one</strong> intent." in page.inner_html(".ai-guidelines")
    keys = ["1", "2", "3", "1", "2", "3", "1", "r", "3", "2"]  # messages 0-9
    for n, key in enumerate(keys):
        press_and_wait(page, key, texts[n + 1])
    press_and_wait(page, "u", "message 9")  # undo message 9 (refund)...
    press_and_wait(page, "1", "message 10")  # ...and label it order instead
    press_and_wait(page, "s", "message 11")  # skip message 10
    assert "Model suggests: refund (83%)" in page.inner_text("[data-item=suggestion]")
    press_and_wait(page, "Enter", "message 12")
    assert page.inner_text("[data-progress=mine]") == "11"

    names = {order.pk: "order", refund.pk: "refund", other.pk: "other"}
    stored = {
        text: (names[label], accepted)
        for text, label, accepted in Annotation.objects.filter(annotator__username="ann").values_list("item__text", "label", "accepted_suggestion")
    }
    expected_keys = keys[:9] + ["1"]
    by_key = {"1": "order", "2": "refund", "3": "other", "r": "refund"}
    assert stored == {
        **{texts[n]: (by_key[key], False) for n, key in enumerate(expected_keys)},
        "message 11": ("refund", True),
    }
    assert list(Skip.objects.values_list("item__text", "annotator__username")) == [("message 10", "ann")]

    sign_in(page, "bob")
    page.goto(page.base_url + reverse("admin:ai_labelset_label", args=[label_set.pk]))
    item_text_is(page, "message 0")
    press_and_wait(page, "2", "message 1")  # ann said order: disagreement
    press_and_wait(page, "2", "message 2")  # ann said refund: agreement
    disputed, agreed = Item.objects.get(text="message 0"), Item.objects.get(text="message 1")
    assert (disputed.disagreement, disputed.gold_labels) == (True, [])
    assert (agreed.gold_label_id, agreed.gold_source) == (refund.pk, "agreement")

    sign_in(page, "cat")
    page.goto(page.base_url + reverse("admin:ai_labelset_review", args=[label_set.pk]))
    row = page.locator(f"tr[data-review-item='{disputed.pk}']")
    assert "ann: order" in row.inner_text() and "bob: refund" in row.inner_text()
    row.locator("button", has_text="other").click()
    page.wait_for_selector("text=Gold label set.")
    disputed.refresh_from_db()
    assert (disputed.gold_label_id, disputed.gold_source, disputed.disagreement) == (other.pk, "review", False)
