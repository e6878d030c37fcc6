"""What the bot says before staff have edited anything: intent names for people, answer templates and
policy texts. Staff override each in the admin (AnswerTemplate, PolicyText); these are the fallbacks."""
from __future__ import annotations

# Intents of the seed data (Bitext's 27 e-commerce support intents) plus the shop's own product questions.
INTENT_LABELS: dict[str, str] = {
    "track_order": "Where is my order?",
    "cancel_order": "Cancel an order",
    "change_order": "Change an order",
    "place_order": "Place an order",
    "change_shipping_address": "Change the delivery address",
    "set_up_shipping_address": "Set up a delivery address",
    "delivery_options": "Delivery options and costs",
    "delivery_period": "How long delivery takes",
    "get_refund": "Get a refund",
    "track_refund": "Where is my refund?",
    "check_refund_policy": "Returns and refunds",
    "check_cancellation_fee": "Cancellation fees",
    "check_payment_methods": "Payment methods",
    "payment_issue": "A problem with a payment",
    "check_invoice": "See an invoice",
    "get_invoice": "Get an invoice",
    "create_account": "Create an account",
    "edit_account": "Edit my account",
    "delete_account": "Delete my account",
    "switch_account": "Switch accounts",
    "recover_password": "Reset my password",
    "registration_problems": "Problems signing up",
    "newsletter_subscription": "The newsletter",
    "review": "Leave a review",
    "complaint": "Make a complaint",
    "contact_customer_service": "Talk to customer service",
    "contact_human_agent": "Talk to a person",
    "product_search": "Find a product",
}


def intent_label(intent: str) -> str:
    return INTENT_LABELS.get(intent) or intent.replace("_", " ").capitalize()


# Placeholders each template may use are listed in ai.chat.answers.PLACEHOLDERS.
DEFAULT_ANSWERS: dict[str, str] = {
    "track_order": "Order $order_number, placed on $placed_on, is $status. $progress",
    "cancel_order": "Order $order_number is cancelled. Nothing will be charged for it, and its items are back in stock.",
    "change_shipping_address": "Done: order $order_number will now go to $address.",
    "set_up_shipping_address": (
        "You enter the delivery address at checkout. If an order has not shipped yet I can change its address "
        "here: just ask me to change the delivery address."
    ),
    "change_order": (
        "Orders cannot be edited once placed, but an order that has not shipped can be cancelled here and placed "
        "again. Shall I look at your order?"
    ),
    "place_order": "Add what you like to your basket and press Checkout; you can check out as a guest or signed in.",
    "check_invoice": "Your orders and their totals are on your account page ($account_url).",
    "get_invoice": "Every order's details, which serve as its invoice, are on your account page ($account_url).",
    "create_account": "You can create an account from the Sign in page ($signup_url); it only needs an e-mail address.",
    "edit_account": "Your details are on your account page ($account_url).",
    "delete_account": "We are sorry to see you go. A member of our team will delete your account on request: ask for a person here.",
    "switch_account": "Sign out from the top of any page, then sign in with the other account.",
    "recover_password": "Use \"Forgotten your password?\" on the Sign in page ($password_reset_url) and we will e-mail you a link.",
    "registration_problems": "Sorry about that. Please try again from $signup_url; if it still fails, ask for a person here.",
    "newsletter_subscription": "We do not send a newsletter yet; we only e-mail you about your orders.",
    "review": "Thank you! We read every message here; tell us what you think and a person will pass it on.",
    "check_cancellation_fee": "There is no fee for cancelling an order that has not shipped yet.",
    "product_search": "Here is what I found:",
}

DEFAULT_POLICIES: dict[str, str] = {
    "returns": (
        "You can return anything unused within 30 days of delivery for a full refund. Refunds go back to the "
        "original payment method within 5 working days of the return reaching us."
    ),
    "delivery": (
        "Standard delivery takes 3–5 working days; express delivery takes 1–2 working days. "
        "Delivery costs are shown at checkout before you pay."
    ),
    "payment": "We accept the major debit and credit cards, and pay on delivery for UK orders.",
}

# Which staff-edited policy text answers which intent.
POLICY_INTENTS: dict[str, str] = {
    "get_refund": "returns",
    "track_refund": "returns",
    "check_refund_policy": "returns",
    "delivery_options": "delivery",
    "delivery_period": "delivery",
    "check_payment_methods": "payment",
    "payment_issue": "payment",
}

HANDOFF_INTENTS = frozenset({"contact_human_agent", "contact_customer_service", "complaint"})
