"""The labelling page of a multi-label set in Debian's chromium: labels toggle on and off by key or by
mouse, Enter (or "Save labels") stores the chosen set, ← goes back to an item with its labels shown and
relabelling replaces them; with overlap 2 the same set of labels in another order agrees."""
from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from ai.annotation.services import add_items
from ai.models import Annotation, Item, Label, LabelSet

from .test_browser_labelling import item_text_is, press_and_wait, sign_in, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pressed(page) -> list[str]:
    """The names of the label buttons shown as chosen, in button order."""
    buttons = page.locator(".ai-label-button[aria-pressed=true]")
    return [text.split()[-1] for text in buttons.all_inner_texts()]


def test_multi_label_by_keyboard_and_mouse(browser_page, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM calls beside Playwright's event loop
    page = browser_page
    label_set = LabelSet.objects.create(name="Product tags", slug="product-tags", task="multi", overlap=2)
    gift, kitchen, sale = (
        Label.objects.create(label_set=label_set, name=name, position=i, hotkey=key)
        for i, (name, key) in enumerate([("gift", "g"), ("kitchen", ""), ("sale", "")])
    )
    add_items(label_set, ["red mug", "candle set", "tea towel", "oak board"], source="shop")
    staff("ann", "annotator"), staff("bob", "annotator")

    sign_in(page, "ann")
    url = page.base_url + reverse("admin:ai_labelset_label", args=[label_set.pk])
    page.goto(url)
    item_text_is(page, "red mug")
    page.keyboard.press("1")
    page.keyboard.press("3")
    page.keyboard.press("2")
    page.keyboard.press("3")  # sale off again
    expect(page.locator(".ai-label-button[aria-pressed=true]")).to_have_count(2)
    assert pressed(page) == ["gift", "kitchen"]
    assert not Annotation.objects.exists()  # nothing stored before Enter
    press_and_wait(page, "Enter", "candle set")
    assert pressed(page) == []

    page.locator(".ai-label-button", has_text="sale").click()  # the mouse: toggle, then Save labels
    page.locator("[data-action=submit]").click()
    item_text_is(page, "tea towel")
    page.keyboard.press("g")  # a label's own key toggles too; the item stays until Enter
    expect(page.locator(".ai-label-button[aria-pressed=true]")).to_have_count(1)
    item_text_is(page, "tea towel")
    assert not Annotation.objects.filter(item__text="tea towel").exists()
    page.keyboard.press("2")
    press_and_wait(page, "Enter", "oak board")
    page.keyboard.press("ArrowLeft")
    item_text_is(page, "tea towel")
    expect(page.locator(".ai-label-button[aria-pressed=true]")).to_have_count(2)  # gift and kitchen, stored
    page.keyboard.press("1")  # relabel: gift off, only kitchen
    press_and_wait(page, "Enter", "oak board")
    expect(page.locator("[data-progress=mine]")).to_have_text("3")

    names = {gift.pk: "gift", kitchen.pk: "kitchen", sale.pk: "sale"}
    mine: dict[str, set[str]] = {}
    for text, label in Annotation.objects.filter(annotator__username="ann").values_list("item__text", "label"):
        mine.setdefault(text, set()).add(names[label])
    assert mine == {"red mug": {"gift", "kitchen"}, "candle set": {"sale"}, "tea towel": {"kitchen"}}

    sign_in(page, "bob")
    page.goto(url)
    item_text_is(page, "red mug")
    page.keyboard.press("2")
    page.keyboard.press("1")  # the same two labels, the other way round: agreement
    press_and_wait(page, "Enter", "candle set")
    page.keyboard.press("3")
    page.keyboard.press("1")  # sale and gift against ann's sale alone: disagreement
    press_and_wait(page, "Enter", "tea towel")
    agreed, disputed = Item.objects.get(text="red mug"), Item.objects.get(text="candle set")
    assert (sorted(agreed.gold_labels), agreed.gold_source, agreed.disagreement) == (sorted([gift.pk, kitchen.pk]), "agreement", False)
    assert (disputed.gold_labels, disputed.disagreement) == ([], True)
