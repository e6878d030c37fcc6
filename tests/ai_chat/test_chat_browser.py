"""The widget and the inbox in Chromium: a signed-in customer tracks and cancels an order, a guest asks
about a stranger's order, an out-of-scope question is clarified and handed off, a staff reply typed in
the admin inbox reaches the open widget, a <script> message stays text in both, and the panel is keyboard
operable on a phone-sized screen. The intent model is the keyword stand-in of fakes.py (the trained model
is tested in test_intent_model.py); everything else is the real stack."""
from __future__ import annotations

import pytest
from django.test import Client

from ai.chat import dialogue
from ai.chat.understanding import classify
from shop.models import Order, OrderStatus
from tests.factories import StaffFactory

from .fakes import KeywordIntentModel

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def intent_model(monkeypatch):
    # The test body runs beside Playwright's event loop; its ORM calls are ordinary synchronous ones.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    model = KeywordIntentModel()
    monkeypatch.setattr(dialogue, "understand", lambda text: classify(model, text, version_id=None))


def sign_in(page, user, base_url: str) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}])


def open_waiting_conversation_as_staff(page, live_server):
    """Staff member Sam signs in to the admin (another host name: its own cookies) and opens, in a new tab,
    the first conversation waiting for a person. Returns that tab."""
    staff = StaffFactory(username="sam", first_name="Sam")
    admin_url = live_server.url.replace("localhost", "127.0.0.1")
    sign_in(page, staff, admin_url)
    inbox = page.context.new_page()
    inbox.goto(admin_url + "/admin/ai/conversation/")
    inbox.get_by_role("link", name="Waiting for a person").first.click()
    return inbox


def open_chat(page):
    page.get_by_role("button", name="Help – chat with us").click()
    panel = page.get_by_role("dialog", name="Ask us anything")
    panel.wait_for()
    return panel


def say(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.keyboard.press("Enter")


def bot_text(page, contains: str):
    message = page.locator(".ai-chat-msg-bot .ai-chat-text", has_text=contains).last
    message.wait_for()
    return message


def test_signed_in_customer_tracks_then_cancels_with_confirmation(browser_page, orders, customer, catalogue):
    page = browser_page
    sign_in(page, customer, page.base_url)
    page.goto(page.base_url + "/")
    open_chat(page)
    assert page.evaluate("document.activeElement.id") == "ai-chat-input"
    say(page, "where is my order")
    status = bot_text(page, "Order AI-261130-BBBBBB")
    assert "is pending" in status.text_content()
    assert page.locator(".ai-chat-msg-shopper .ai-chat-delivery").last.text_content() == "Delivered"

    say(page, "please cancel my order")
    bot_text(page, "Do you want to cancel order AI-261130-BBBBBB")
    assert Order.objects.get(number="AI-261130-BBBBBB").status == OrderStatus.PENDING
    page.get_by_role("button", name="Yes, cancel it").click()
    bot_text(page, "Order AI-261130-BBBBBB is cancelled.")
    assert Order.objects.get(number="AI-261130-BBBBBB").status == OrderStatus.CANCELLED
    catalogue["lantern"].refresh_from_db()
    assert catalogue["lantern"].stock == 7  # restocked by the pipeline

    # The conversation survives a reload (and the panel stays open).
    page.reload()
    page.get_by_role("dialog", name="Ask us anything").wait_for()
    bot_text(page, "Order AI-261130-BBBBBB is cancelled.")
    assert page.locator(".ai-chat-msg-shopper").count() == 3


def test_a_guest_asking_about_a_strangers_order_learns_nothing(browser_page, orders):
    page = browser_page
    page.goto(page.base_url + "/")
    open_chat(page)
    say(page, "where is my order AI-261129-CCCCCC")
    bot_text(page, "To find your order I need its order number and the e-mail address")
    say(page, "mallory@example.com")
    bot_text(page, "I could not find an order with that number and e-mail address")
    log = page.locator("[data-chat-log]").text_content()
    assert "Large Glass Lantern" not in log and "pending" not in log and "24.00" not in log


def test_out_of_scope_then_hand_off_then_staff_reply_reaches_the_open_widget(browser_page, live_server, db):
    page = browser_page
    page.goto(page.base_url + "/")
    open_chat(page)
    payload = "<script>window.__xss = 1</script><img src=x onerror=window.__xss=2> what is the meaning of life"
    say(page, payload)
    bot_text(page, "Sorry, I am not sure I understood")
    assert page.get_by_role("button", name="Where is my order?").is_visible()
    assert page.locator(".ai-chat-msg-shopper .ai-chat-text").first.text_content() == payload
    say(page, "how many moons has jupiter")
    bot_text(page, "Our team is offline right now")
    assert page.locator("[data-chat-offline]").is_visible()

    # Staff open the conversation in the admin (another host name: its own cookies) and reply.
    inbox = open_waiting_conversation_as_staff(page, live_server)
    inbox.locator(".ai-inbox-text", has_text="what is the meaning of life").wait_for()
    assert inbox.locator(".ai-inbox-text").first.text_content() == payload  # text, not markup
    inbox.get_by_label("Reply to the shopper").fill("Hello, Sam here. <b>Not bold</b>")
    inbox.get_by_role("button", name="Send reply").click()
    inbox.locator(".ai-inbox-agent").wait_for()

    reply = page.locator(".ai-chat-msg-agent")
    reply.wait_for(timeout=5000)  # the widget polls every second
    assert reply.locator(".ai-chat-label").text_content() == "Agent · Sam"
    assert reply.locator(".ai-chat-text").text_content() == "Hello, Sam here. <b>Not bold</b>"
    assert page.evaluate("window.__xss") is None and inbox.evaluate("window.__xss") is None
    # The shopper's messages now show as read by staff.
    assert page.locator(".ai-chat-msg-shopper .ai-chat-delivery").first.text_content() == "Read"


def test_keyboard_and_phone(browser_page, db):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/")
    launcher = page.get_by_role("button", name="Help – chat with us")
    launcher.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Ask us anything")
    panel.wait_for()
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Focus stays inside the panel however far one tabs.
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('[data-chat-panel]')")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("!!document.activeElement.closest('[data-chat-panel]')")
    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "ai-chat-panel"
    assert launcher.get_attribute("aria-expanded") == "false"


def test_staff_canned_response_then_resolution_then_shopper_rates(browser_page, live_server, db):
    from playwright.sync_api import expect

    from ai.models import CannedResponse, Conversation, SatisfactionRating

    CannedResponse.objects.create(title="Thanks for waiting", text="Thanks for waiting! Your parcel left today.")
    CannedResponse.objects.create(title="Returns", text="You can return anything within 30 days.")
    page = browser_page
    page.goto(page.base_url + "/")
    open_chat(page)
    say(page, "I want to talk to a person")
    bot_text(page, "Our team is offline right now")
    assert Conversation.objects.get().status == Conversation.Status.WAITING
    assert page.locator("[data-chat-rating]").is_hidden()

    inbox = open_waiting_conversation_as_staff(page, live_server)
    # The canned-response menu fills the reply box (and resets itself); staff may still edit before sending.
    inbox.get_by_label("Canned responses").select_option(label="Thanks for waiting")
    reply_box = inbox.get_by_label("Reply to the shopper")
    expect(reply_box).to_have_value("Thanks for waiting! Your parcel left today.")
    expect(reply_box).to_be_focused()
    expect(inbox.get_by_label("Canned responses")).to_have_value("")
    inbox.get_by_role("button", name="Send reply").click()
    inbox.locator(".ai-inbox-agent").wait_for()
    expect(page.locator(".ai-chat-msg-agent .ai-chat-text")).to_have_text("Thanks for waiting! Your parcel left today.", timeout=5000)

    inbox.get_by_role("button", name="Resolve").click()
    expect(inbox.locator("[data-inbox-status]")).to_have_text("Resolved")
    # The open widget learns of the resolution by polling and offers the CSAT buttons.
    rating = page.locator("[data-chat-rating]")
    expect(rating).to_be_visible(timeout=5000)
    rating.get_by_label("Comment (optional)").fill("Quick and kind")
    rating.get_by_role("button", name="Helpful", exact=True).click()
    bot_text(page, "Thank you for your feedback!")
    expect(rating).to_be_hidden()
    stored = SatisfactionRating.objects.get()
    assert (stored.positive, stored.comment) == (True, "Quick and kind")
    # The inbox shows the rating; a reload of the widget does not offer the buttons again.
    inbox.reload()
    expect(inbox.locator(".ai-inbox-meta")).to_contain_text("Rating: 👍 Quick and kind")
    page.reload()
    page.get_by_role("dialog", name="Ask us anything").wait_for()
    expect(page.locator(".ai-chat-msg-agent .ai-chat-text")).to_have_text("Thanks for waiting! Your parcel left today.")
    expect(page.locator("[data-chat-rating]")).to_be_hidden()


def test_thumbs_down_without_a_comment(browser_page, live_server, db):
    from playwright.sync_api import expect

    from ai.chat import services
    from ai.models import Conversation, SatisfactionRating

    page = browser_page
    page.goto(page.base_url + "/")
    open_chat(page)
    say(page, "I want to talk to a person")
    bot_text(page, "Our team is offline right now")
    services.resolve(Conversation.objects.get(), StaffFactory(username="sam"))
    rating = page.locator("[data-chat-rating]")
    expect(rating).to_be_visible(timeout=5000)
    rating.get_by_role("button", name="Not helpful").click()
    bot_text(page, "Thank you for your feedback!")
    stored = SatisfactionRating.objects.get()
    assert (stored.positive, stored.comment) == (False, "")
