"""Tiny generated label data: four topics with their own words, so that a small model can learn them."""
from __future__ import annotations

import random

TOPICS = {
    "order": ["where is my order", "my parcel has not arrived", "track my delivery", "when will my package come"],
    "refund": ["i want my money back", "refund my purchase", "can i get a refund", "return this for a refund"],
    "account": ["reset my password", "i cannot log in", "change my email address", "delete my account"],
    "other": ["tell me a joke", "what is the weather like", "who won the football", "play some music"],
}
SUFFIXES = ["please", "now", "today", "thanks", "asap", "quickly", "if you can", "friend", "again", "soon", "ok", "team"]


def topic_texts(per_topic: int = 10, seed: int = 0) -> tuple[list[str], list[int]]:
    rng = random.Random(seed)
    texts, targets = [], []
    for index, phrases in enumerate(TOPICS.values()):
        for n in range(per_topic):
            texts.append(f"{phrases[n % len(phrases)]} {SUFFIXES[n % len(SUFFIXES)]}")
            targets.append(index)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [targets[i] for i in order]
