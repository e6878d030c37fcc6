"""A stand-in intent model for the dialogue tests: keyword scores turned into probabilities. It has the
served model's interface (labels, threshold, predict_proba), so `ai.chat.understanding.classify` runs
on it unchanged. The real model is trained in test_intent_kind.py."""
from __future__ import annotations

import numpy as np

KEYWORDS = {
    "track_order": ("where is my order", "track", "status of my order", "where's my order"),
    "cancel_order": ("cancel",),
    "change_shipping_address": ("address",),
    "check_refund_policy": ("return", "refund"),
    "delivery_options": ("delivery", "shipping cost"),
    "contact_human_agent": ("person", "human", "agent"),
    "product_search": ("do you have", "do you sell", "looking for"),
    "create_account": ("create an account", "sign up"),
}


class KeywordIntentModel:
    labels = [*KEYWORDS, "oos"]
    threshold = 0.5

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            lowered = text.lower()
            scores = np.array([sum(k in lowered for k in words) for words in KEYWORDS.values()] + [0], dtype=float)
            if scores.sum() == 0:
                # Unsure: the two likeliest are track_order and cancel_order, both under the threshold.
                row = np.full(len(self.labels), 0.02)
                row[0], row[1] = 0.35, 0.25
            else:
                row = scores + 0.05
            rows.append(row / row.sum())
        return np.vstack(rows)
