"""What the `chat_intent` kind's training relies on in ai.textclf: the cached features come from the frozen
layers below the trained ones only (the layers above are never run for them)."""
from __future__ import annotations

import pytest
import torch

from ai.encoder import load_encoder
from ai.textclf import ClassifierConfig, TextClassifier

pytestmark = pytest.mark.slow


def test_features_are_the_hidden_states_below_the_trained_layers():
    texts = ["where is my order", "cancel purchase 3707955617 please, it is late", "hi"]
    model = TextClassifier({"t": ["a", "b"]}, ClassifierConfig(train_layers=2, max_length=16))
    features = model.features(texts)
    tokenizer, base = load_encoder(torch.device("cpu"))
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=16, return_tensors="pt")
    with torch.no_grad():
        expected = base(**encoded, output_hidden_states=True).hidden_states[4]  # the input of layer 5 of 6
    mask = encoded["attention_mask"].bool()
    assert features.hidden.shape == (3, 16, 384) and features.hidden.dtype == torch.float16
    assert torch.equal(features.mask, encoded["attention_mask"])
    assert (features.hidden.float()[mask] - expected[mask]).abs().max() < 1e-2  # float16 storage

