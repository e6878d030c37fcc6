"""What the `chat_intent` kind's training relies on in ai.textclf: the cached features come from the frozen
layers below the trained ones only (the layers above are never run for them); one served message runs the
shared frozen layers once for both its intent and its retrieval embedding."""
from __future__ import annotations

import numpy as np
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



@pytest.mark.parametrize("train_layers", [0, 2, "all"])
def test_one_message_encoding_is_shared_by_the_intent_and_the_sentence_embedding(train_layers):
    from ai.chat.intent_model import ServedIntentModel
    from ai.recs.algorithms.content import embed_texts

    texts = ["do you have a lantern under £10?", "where is my order", "hi"]
    model = TextClassifier({"t": ["a", "b", "c"]}, ClassifierConfig(train_layers=train_layers, max_length=32))
    served = ServedIntentModel(model, ["a", "b", "c"], 0.5, task="t")
    expected_vectors = embed_texts(texts, max_length=64)
    expected_proba = model.predict_proba(texts, "t")
    for row, text in enumerate(texts):
        proba, _, sentence_vector = served.analyse(text)
        # The intent from the shared pass is the one the batch path gives (same float16 rounding).
        assert np.abs(proba - expected_proba[row]).max() < 1e-5
        vector = sentence_vector(64)
        assert vector is not None and vector.shape == (384,)
        assert (vector - expected_vectors[row]).abs().max() < 1e-5
        assert sentence_vector(2) is None  # the caller reads fewer tokens than the message has


def test_a_message_longer_than_the_classifier_reads_is_not_shared():
    from ai.chat.intent_model import ServedIntentModel

    model = TextClassifier({"t": ["a", "b"]}, ClassifierConfig(train_layers=2, max_length=8))
    served = ServedIntentModel(model, ["a", "b"], 0.5, task="t")
    long_text = "please tell me where my order with the brass lantern and two candles has got to"
    proba, _, sentence_vector = served.analyse(long_text)
    assert np.abs(proba - model.predict_proba([long_text], "t")[0]).max() < 1e-5  # cut to 8 tokens alike
    assert sentence_vector(64) is None  # retrieval reads more of it: it must encode the message itself
