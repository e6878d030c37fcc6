"""The dialogue policy: from a shopper's message (and the conversation's state) to the bot's replies.

- An action that changes an order (cancel, new address) is only proposed; it runs when the shopper
  confirms it explicitly in the next message ("Yes, cancel it").
- Orders are looked up through the adapter: a signed-in shopper's own orders, or for a guest the order
  whose number *and* e-mail address they give. Not found and not theirs get the same answer.
- Below the model's threshold the bot offers the two likeliest intents as quick replies; a second miss
  in a row hands the conversation to staff, as does asking for a person.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ai.adapter import OrderActionError, OrderInfo
from ai.conf import ai_settings

from . import answers, retrieval
from .defaults import HANDOFF_INTENTS, POLICY_INTENTS, intent_label
from .entities import Entities, extract
from .understanding import Understanding, understand

ORDER_INTENTS = ("track_order", "cancel_order", "change_shipping_address")
MAX_FAILED_LOOKUPS = 5
YES = re.compile(r"^\s*(yes|yep|yeah|y|ok|okay|sure|confirm|please do|do it)\b", re.I)
NO = re.compile(r"^\s*(no|nope|n|don't|do not|keep|stop|never ?mind)\b", re.I)
TALK_TO_PERSON = "Talk to a person"
NOT_FOUND = "I could not find an order with that number and e-mail address. Please check both and try again."


@dataclass
class BotReply:
    text: str
    intent: str = ""
    quick_replies: list[str] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    offline: bool = False

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.quick_replies:
            data["quick_replies"] = self.quick_replies
        if self.products:
            data["products"] = self.products
        if self.offline:
            data["offline"] = True
        return data


@dataclass
class Outcome:
    replies: list[BotReply]
    understanding: Understanding
    entities: Entities
    handoff: bool = False
    handoff_reason: str = ""


@dataclass
class Turn:
    """One shopper message and the conversation it belongs to (state is changed in place)."""

    text: str
    user_id: int | None
    state: dict
    misses: int = 0
    staff_online: bool = True



ADDRESS_ORDER = ("name", "line1", "line2", "city", "postcode", "country")


def address_text(address: dict[str, str]) -> str:
    """An address on one line, in postal order (a dict read back from a JSON column may come in any order)."""
    return ", ".join(address[key] for key in ADDRESS_ORDER if address.get(key))

def _order_line(order: OrderInfo) -> str:
    count = sum(line.quantity for line in order.lines)
    return f"{order.number} ({count} item{'s' if count != 1 else ''}, {answers.money(order.total, order.currency)})"


class Dialogue:
    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.state = turn.state
        self.adapter = ai_settings.adapter()
        self.entities = extract(turn.text)
        self.understanding = Understanding("", 0.0, False)

    # Entry point ---------------------------------------------------------------------------------
    def respond(self) -> Outcome:
        self._remember_identity()
        for step in (self._confirmation, self._awaited_address, self._awaited_identity, self._clarified):
            outcome = step()
            if outcome is not None:
                return outcome
        self.understanding = understand(self.turn.text)
        intent = self._intent()
        if not intent:
            return self._miss()
        self.turn.misses = 0
        return self._handle(intent)

    def _intent(self) -> str:
        u = self.understanding
        if u.understood:
            if u.intent in ORDER_INTENTS or u.intent in HANDOFF_INTENTS or u.intent in POLICY_INTENTS:
                return u.intent
            if self.entities.has_price_filter or self.entities.product_terms:
                return "product_search"
            return u.intent
        # The model is unsure, but a price or a catalogue word makes it a product question.
        if self.entities.has_price_filter or (self.entities.product_terms and u.intent in ("", "product_search")):
            return "product_search"
        return ""

    def _outcome(self, *replies: BotReply, handoff: bool = False, reason: str = "") -> Outcome:
        return Outcome(list(replies), self.understanding, self.entities, handoff, reason)

    def _handle(self, intent: str) -> Outcome:
        if intent in HANDOFF_INTENTS:
            return self.handoff("asked for a person")
        if intent in ORDER_INTENTS:
            return self._order_intent(intent)
        if intent in POLICY_INTENTS:
            return self._outcome(BotReply(answers.policy_text(POLICY_INTENTS[intent]), intent))
        if intent == "product_search":
            return self._products()
        text = answers.render(intent)
        if not text:
            return self.handoff(f"no answer for {intent}")
        return self._outcome(BotReply(text, intent))

    # Misses and hand-off -------------------------------------------------------------------------
    def _miss(self) -> Outcome:
        self.turn.misses += 1
        if self.turn.misses >= 2:
            return self.handoff("not understood twice")
        options = [(i, p) for i, p in self.understanding.candidates if i != "oos"][:2]
        self.state["clarify"] = {intent_label(intent): intent for intent, _ in options}
        if options:
            text = "Sorry, I am not sure I understood. Did you mean one of these?"
        else:
            text = "Sorry, I did not understand that. Could you put it another way?"
        return self._outcome(BotReply(text, "clarify", [*self.state["clarify"], TALK_TO_PERSON]))

    def _clarified(self) -> Outcome | None:
        offered = self.state.pop("clarify", None) or {}
        choice = self.turn.text.strip()
        if choice == TALK_TO_PERSON:
            return self.handoff("asked for a person")
        if choice in offered:
            intent = offered[choice]
            self.understanding = Understanding(intent, 1.0, True, [(intent, 1.0)])
            self.turn.misses = 0
            return self._handle(intent)
        return None

    def handoff(self, reason: str) -> Outcome:
        self.state.clear()
        if self.turn.staff_online:
            text = "I am passing you to a member of our team. They will reply here shortly."
        else:
            text = (
                "Our team is offline right now. Leave your question here and we will reply in this chat "
                "as soon as we are back (within one working day)."
            )
        reply = BotReply(text, "handoff", offline=not self.turn.staff_online)
        return self._outcome(reply, handoff=True, reason=reason)

    # Orders ------------------------------------------------------------------------------------
    def _remember_identity(self) -> None:
        if self.entities.order_numbers:
            self.state["order_number"] = self.entities.order_numbers[0]
        if self.entities.emails and self.turn.user_id is None:
            self.state["email"] = self.entities.emails[0]

    def _identity(self) -> dict[str, Any]:
        if self.turn.user_id is not None:
            return {"user_id": self.turn.user_id}
        return {"email": self.state.get("email")}

    def _find_order(self, intent: str) -> OrderInfo | Outcome:
        number = self.state.get("order_number")
        if self.turn.user_id is not None:
            if number:
                order = self.adapter.find_order(number, user_id=self.turn.user_id)
                return order or self._outcome(BotReply(f"I could not find order {number} on your account.", intent))
            orders = self.adapter.latest_orders(self.turn.user_id, limit=5)
            if not orders:
                return self._outcome(BotReply("I cannot see any orders on your account yet.", intent))
            wanted = {"cancel_order": "can_cancel", "change_shipping_address": "can_change_address"}.get(intent)
            return next((o for o in orders if wanted and getattr(o, wanted)), orders[0])
        email = self.state.get("email")
        if not number or not email:
            self.state["awaiting"] = intent
            return self._outcome(BotReply(
                "To find your order I need its order number and the e-mail address you placed it with "
                "(or sign in and ask again).", intent,
            ))
        order = self.adapter.find_order(number, email=email)
        if order is None:
            self.state.pop("order_number", None)
            self.state["failed_lookups"] = self.state.get("failed_lookups", 0) + 1
            if self.state["failed_lookups"] >= MAX_FAILED_LOOKUPS:
                return self.handoff("too many failed order look-ups")
            self.state["awaiting"] = intent
            return self._outcome(BotReply(NOT_FOUND, intent))
        return order

    def _awaited_identity(self) -> Outcome | None:
        intent = self.state.pop("awaiting", None)
        if intent not in ORDER_INTENTS:
            return None
        if not (self.entities.order_numbers or self.entities.emails):
            return None  # they moved on to something else
        return self._order_intent(intent)

    def _order_intent(self, intent: str) -> Outcome:
        self.understanding = self.understanding if self.understanding.intent else Understanding(intent, 1.0, True)
        found = self._find_order(intent)
        if isinstance(found, Outcome):
            return found
        order = found
        if intent == "track_order":
            quick = ["Cancel this order"] if order.can_cancel else []
            return self._outcome(BotReply(answers.render("track_order", answers.order_values(order)), intent, quick))
        if intent == "cancel_order":
            if not order.can_cancel:
                text = f"Order {order.number} is {order.status_label.lower()} and can no longer be cancelled. "
                return self._outcome(BotReply(text + answers.policy_text("returns"), intent))
            self.state["pending"] = {"action": "cancel", "number": order.number}
            text = f"Do you want to cancel order {_order_line(order)}? This cannot be undone."
            return self._outcome(BotReply(text, intent, ["Yes, cancel it", "No, keep it"]))
        if not order.can_change_address:
            text = f"Order {order.number} is {order.status_label.lower()}, so its delivery address can no longer change."
            return self._outcome(BotReply(text, intent))
        self.state["address_for"] = order.number
        text = (
            f"Where should order {order.number} go? Send the new address on one line, separated by commas: "
            "full name, street, town, postcode, country."
        )
        return self._outcome(BotReply(text, intent))

    def _awaited_address(self) -> Outcome | None:
        number = self.state.pop("address_for", None)
        if not number:
            return None
        parts = [part.strip() for part in self.turn.text.split(",") if part.strip()]
        if len(parts) not in (5, 6):
            return None if len(parts) < 3 else self._outcome(BotReply(
                "Sorry, I need five or six parts separated by commas: full name, street, (second line,) town, "
                "postcode, country. Please ask again to change the address.", "change_shipping_address",
            ))
        name, line1, *middle, city, postcode, country = parts
        address = {"name": name, "line1": line1, "line2": middle[0] if middle else "", "city": city,
                   "postcode": postcode, "country": country}
        self.state["pending"] = {"action": "address", "number": number, "address": address}
        text = f"Send order {number} to {address_text(address)}?"
        self.understanding = Understanding("change_shipping_address", 1.0, True)
        return self._outcome(BotReply(text, "change_shipping_address", ["Yes, change it", "No, keep it"]))

    def _confirmation(self) -> Outcome | None:
        pending = self.state.pop("pending", None)
        if not pending:
            return None
        intent = "cancel_order" if pending["action"] == "cancel" else "change_shipping_address"
        if NO.match(self.turn.text):
            self.understanding = Understanding(intent, 1.0, True)
            return self._outcome(BotReply("All right, I have not changed anything.", intent))
        if not YES.match(self.turn.text):
            return None  # anything else is a new question: the proposal lapses
        self.understanding = Understanding(intent, 1.0, True)
        identity = self._identity()
        try:
            if pending["action"] == "cancel":
                order = self.adapter.cancel_order(pending["number"], actor="support chat", **identity)
            else:
                order = self.adapter.change_shipping_address(
                    pending["number"], pending["address"], actor="support chat", **identity
                )
        except OrderActionError as exc:
            return self._outcome(BotReply(exc.message, intent))
        values = answers.order_values(order)
        if pending["action"] == "address":
            values["address"] = address_text(pending["address"])
        return self._outcome(BotReply(answers.render(intent, values), intent))

    # Products ----------------------------------------------------------------------------------
    def _products(self) -> Outcome:
        if not self.understanding.intent or not self.understanding.understood:
            self.understanding = replace(self.understanding, intent="product_search", understood=True)
        found = retrieval.search(self.turn.text, self.entities, sentence_vector=self.understanding.sentence_vector)
        replies = []
        if found.faq_answer:
            replies.append(BotReply(found.faq_answer, "faq"))
        if found.products:
            cards = [retrieval.product_card(p) for p in found.products]
            replies.append(BotReply(answers.render("product_search"), "product_search", products=cards))
        if not replies:
            limit = f" under {answers.money(self.entities.max_price)}" if self.entities.max_price is not None else ""
            replies.append(BotReply(f"Sorry, I could not find anything in stock matching that{limit}.", "product_search"))
        return self._outcome(*replies)


def respond(turn: Turn) -> Outcome:
    return Dialogue(turn).respond()
