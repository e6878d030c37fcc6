"""The widget's API end to end (views, conversation services, dialogue policy), with a keyword intent
model standing in for the trained one."""
from __future__ import annotations

import pytest
from django.test import Client

from ai.chat import dialogue, services
from ai.chat.understanding import classify
from ai.models import Conversation, Item, Message, SatisfactionRating
from shop.models import Order, OrderStatus
from tests.factories import StaffFactory

from .fakes import KeywordIntentModel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def intent_model(monkeypatch):
    model = KeywordIntentModel()
    monkeypatch.setattr(dialogue, "understand", lambda text: classify(model, text, version_id=None))
    return model


class Shopper:
    def __init__(self, user=None) -> None:
        self.client = Client(enforce_csrf_checks=True)
        if user is not None:
            self.client.force_login(user)
        self.client.get("/ai/chat/")
        self.csrf = None

    def token(self) -> str:
        if self.csrf is None:
            from django.middleware.csrf import _get_new_csrf_string

            self.csrf = _get_new_csrf_string()
            self.client.cookies["csrftoken"] = self.csrf
        return self.csrf

    def say(self, text: str, status: int = 201) -> list[dict]:
        response = self.client.post("/ai/chat/messages/", {"text": text}, content_type="application/json",
                                    HTTP_X_CSRFTOKEN=self.token())
        assert response.status_code == status, response.content
        return response.json()

    def bot(self, text: str) -> list[dict]:
        return [m for m in self.say(text)["messages"] if m["sender"] == "bot"]

    def poll(self, after: int = 0, **headers):
        return self.client.get(f"/ai/chat/?after={after}", **headers)


def test_signed_in_customer_gets_their_latest_orders_status(orders, customer):
    shopper = Shopper(customer)
    replies = shopper.bot("where is my order?")
    assert len(replies) == 1
    assert replies[0]["text"].startswith("Order AI-261130-BBBBBB, placed on ")
    assert "is pending. It has not shipped yet" in replies[0]["text"]
    assert replies[0]["quick_replies"] == ["Cancel this order"]
    shopper_message = Message.objects.get(sender="shopper")
    assert (shopper_message.intent, shopper_message.delivery) == ("track_order", "delivered")
    assert shopper_message.confidence > 0.5


def test_cancel_needs_explicit_confirmation_and_goes_through_the_pipeline(orders, customer, catalogue):
    shopper = Shopper(customer)
    proposal = shopper.bot("please cancel my order")[0]
    assert proposal["text"] == "Do you want to cancel order AI-261130-BBBBBB (2 items, £17.00)? This cannot be undone."
    assert proposal["quick_replies"] == ["Yes, cancel it", "No, keep it"]
    assert Order.objects.get(number="AI-261130-BBBBBB").status == OrderStatus.PENDING
    done = shopper.bot("Yes, cancel it")[0]
    assert done["text"].startswith("Order AI-261130-BBBBBB is cancelled.")
    assert Order.objects.get(number="AI-261130-BBBBBB").status == OrderStatus.CANCELLED
    catalogue["lantern"].refresh_from_db()
    assert catalogue["lantern"].stock == 7


def test_saying_no_or_moving_on_cancels_nothing(orders, customer):
    shopper = Shopper(customer)
    shopper.bot("cancel my order")
    assert shopper.bot("No, keep it")[0]["text"] == "All right, I have not changed anything."
    shopper.bot("cancel my order")
    shopper.bot("what is your refund policy?")
    # The proposal lapsed: "yes" alone is now not understood.
    assert shopper.bot("yes")[0]["text"] == "Sorry, I am not sure I understood. Did you mean one of these?"
    assert Order.objects.get(number="AI-261130-BBBBBB").status == OrderStatus.PENDING


@pytest.mark.parametrize(
    "message",
    [
        "where is my order AI-261129-CCCCCC",  # a stranger's order number alone
        "where is my order AI-261129-CCCCCC mallory@example.com",  # with the wrong e-mail
        "where is my order AI-000000-ZZZZZZ guest@example.com",  # an order that does not exist
    ],
)
def test_a_guest_learns_nothing_about_a_strangers_order(orders, message):
    shopper = Shopper()
    texts = " ".join(m["text"] for m in shopper.bot(message))
    assert "CCCCCC" not in texts and "Large Glass Lantern" not in texts and "pending" not in texts
    assert "York" not in texts and "24.00" not in texts
    assert texts in (
        dialogue.NOT_FOUND,
        "To find your order I need its order number and the e-mail address you placed it with (or sign in and ask again).",
    )


def test_a_signed_in_stranger_learns_nothing_either(orders, stranger):
    texts = Shopper(stranger).bot("where is my order AI-261129-CCCCCC guest@example.com")[0]["text"]
    assert texts == "I could not find order AI-261129-CCCCCC on your account."


def test_guest_with_number_and_email_over_two_messages(orders):
    shopper = Shopper()
    asked = shopper.bot("where is my order?")[0]["text"]
    assert asked.startswith("To find your order I need its order number and the e-mail address")
    answer = shopper.bot("it is AI-261129-CCCCCC, guest@example.com")[0]["text"]
    assert answer.startswith("Order AI-261129-CCCCCC, placed on") and "is pending" in answer


def test_guest_cancels_after_proving_the_order(orders):
    shopper = Shopper()
    shopper.bot("cancel order AI-261129-CCCCCC, my e-mail is guest@example.com")
    shopper.bot("yes")
    assert Order.objects.get(number="AI-261129-CCCCCC").status == OrderStatus.CANCELLED


def test_address_change_with_confirmation(orders, customer):
    shopper = Shopper(customer)
    assert "Send the new address on one line" in shopper.bot("I need to change the address of my order")[0]["text"]
    proposal = shopper.bot("Ada Lovelace, 2 Low Street, Leeds, LS1 1AA, United Kingdom")[0]
    assert proposal["text"] == "Send order AI-261130-BBBBBB to Ada Lovelace, 2 Low Street, Leeds, LS1 1AA, United Kingdom?"
    done = shopper.bot("Yes, change it")[0]
    assert done["text"] == "Done: order AI-261130-BBBBBB will now go to Ada Lovelace, 2 Low Street, Leeds, LS1 1AA, United Kingdom."
    assert Order.objects.get(number="AI-261130-BBBBBB").shipping_city == "Leeds"


def test_out_of_scope_is_clarified_then_handed_off(db, django_capture_on_commit_callbacks):
    shopper = Shopper()
    with django_capture_on_commit_callbacks(execute=True):
        first = shopper.bot("what is the meaning of life")[0]
    assert first["text"] == "Sorry, I am not sure I understood. Did you mean one of these?"
    assert first["quick_replies"] == ["Where is my order?", "Cancel an order", "Talk to a person"]
    with django_capture_on_commit_callbacks(execute=True):
        second = shopper.bot("how many moons has jupiter")[0]
    assert second["text"].startswith("Our team is offline right now")  # nobody has the inbox open
    assert second["offline"] is True
    assert Conversation.objects.get().status == Conversation.Status.WAITING
    # Both messages wait in the chat intents label set for a human label.
    items = Item.objects.filter(label_set__slug="chat-intents").order_by("pk")
    assert [(i.text, i.source, i.metadata["handoff"], i.metadata["bot_intent"]) for i in items] == [
        ("what is the meaning of life", "chat", False, "track_order"),
        ("how many moons has jupiter", "chat", True, "track_order"),
    ]
    # While waiting for a person the bot stays quiet.
    assert shopper.bot("hello?") == []


def test_a_quick_reply_answers_the_clarification(orders, customer):
    shopper = Shopper(customer)
    shopper.bot("hmm")
    assert shopper.bot("Where is my order?")[0]["text"].startswith("Order AI-261130-BBBBBB")


def test_asking_for_a_person_hands_off_at_once_with_staff_online(db):
    services.mark_staff_seen()
    reply = Shopper().bot("can I talk to a human please")[0]
    assert reply["text"] == "I am passing you to a member of our team. They will reply here shortly."
    assert "offline" not in reply


def test_policies_and_templates_are_staff_edited(db):
    from ai.models import AnswerTemplate, PolicyText

    PolicyText.objects.create(topic="returns", text="Returns within 14 days.")
    AnswerTemplate.objects.create(intent="create_account", text="Sign up at $signup_url.")
    shopper = Shopper()
    assert shopper.bot("can I return this?")[0]["text"] == "Returns within 14 days."
    assert shopper.bot("how do I create an account")[0]["text"] == "Sign up at /account/signup/."


def test_product_question_with_price_filter_answers_with_cards(catalogue):
    replies = Shopper().bot("do you have a lantern under £10?")
    assert replies[-1]["products"] == [
        {"id": catalogue["lantern"].pk, "title": "Moroccan Metal Lantern", "price": "8.50",
         "url": catalogue["lantern"].get_absolute_url(), "image_url": catalogue["lantern"].display_image_url},
    ]
    nothing = Shopper().bot("do you have a lantern under £2?")
    assert nothing[-1]["text"] == "Sorry, I could not find anything in stock matching that under £2.00."


def test_faq_entries_answer_product_questions(catalogue):
    from ai.models import FaqEntry

    FaqEntry.objects.create(question="Are your lanterns suitable for outdoor use?",
                            answer="Our metal lanterns are fine outdoors; the paper ones are for indoors.")
    replies = Shopper().bot("do you have lanterns I can use outdoors?")
    assert replies[0]["text"] == "Our metal lanterns are fine outdoors; the paper ones are for indoors."


def test_polling_with_cursor_and_etag(orders, customer):
    shopper = Shopper(customer)
    assert shopper.poll().json()["conversation"]["status"] is None
    sent = shopper.say("where is my order?")
    cursor = sent["cursor"]
    first = shopper.poll()
    assert [m["sender"] for m in first.json()["messages"]] == ["shopper", "bot"]
    etag = first["ETag"]
    settled = shopper.poll(cursor, HTTP_IF_NONE_MATCH=shopper.poll(cursor)["ETag"])
    assert settled.status_code == 304
    conversation = Conversation.objects.get()
    staff = StaffFactory(username="sam", first_name="Sam")
    services.staff_reply(conversation, staff, "Hello, Sam here.")
    update = shopper.poll(cursor, HTTP_IF_NONE_MATCH=etag)
    assert update.status_code == 200
    [reply] = update.json()["messages"]
    assert (reply["sender"], reply["text"], reply["agent_name"]) == ("agent", "Hello, Sam here.", "Sam")
    assert Message.objects.get(pk=reply["id"]).delivery == "delivered"


def test_the_conversation_survives_reloads_and_is_not_shared(orders, customer):
    shopper = Shopper(customer)
    shopper.say("where is my order?")
    assert len(shopper.poll().json()["messages"]) == 2
    assert Shopper().poll().json()["messages"] == []  # another browser sees nothing
    shopper.client.logout()
    assert shopper.poll().json()["messages"] == []  # signed out: not the account's conversation any more


def test_csrf_is_required_for_every_write(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/ai/chat/messages/", {"text": "hi"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert client.post("/ai/chat/rating/", {"positive": True}, content_type="application/json").status_code == 403
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 1001, "Messages can be at most 1000 characters long."),
        ("   ", "The message is empty."),
    ],
)
def test_bad_messages_get_a_clear_error_and_store_nothing(db, text, message):
    body = Shopper().say(text, status=400)
    assert body["error"]["message"] == message
    assert not Message.objects.exists()


def test_sending_is_rate_limited_per_visitor_and_per_ip(db, settings):
    settings.AI_CHAT_RATE_VISITOR = "3/min"
    settings.AI_CHAT_RATE_IP = "5/min"
    shopper = Shopper()
    for _ in range(3):
        shopper.say("hello")
    limited = shopper.say("hello", status=429)
    assert limited["error"]["code"] == "throttled"
    # A new visitor from the same address: the address has had 4 of its 5 (the refused one counts too).
    other = Shopper()
    other.say("hi")
    assert other.say("hi", status=429)["error"]["code"] == "throttled"


def test_rating_once_resolved(orders, customer):
    shopper = Shopper(customer)
    shopper.say("where is my order?")
    response = shopper.client.post("/ai/chat/rating/", {"positive": True}, content_type="application/json",
                                   HTTP_X_CSRFTOKEN=shopper.token())
    assert response.status_code == 409
    services.resolve(Conversation.objects.get(), StaffFactory())
    assert shopper.poll().json()["conversation"]["can_rate"] is True
    response = shopper.client.post("/ai/chat/rating/", {"positive": False, "comment": "slow"},
                                   content_type="application/json", HTTP_X_CSRFTOKEN=shopper.token())
    assert response.status_code == 201
    rating = SatisfactionRating.objects.get()
    assert (rating.positive, rating.comment) == (False, "slow")
