"""A reusable text classifier on the all-MiniLM-L6-v2 encoder (Django-free).

    from ai.textclf import ClassifierConfig, TextClassifier, TaskData
    model = TextClassifier({"intent": ["order", "refund"]}, ClassifierConfig(train_layers=1))
    model.fit({"intent": TaskData(texts, targets)})
    model.predict_proba(["where is my parcel"], task="intent")

`train_layers` chooses how much of the encoder learns: 0 trains the head on cached sentence embeddings
(fastest), k trains the top k transformer layers (the frozen lower layers' outputs are computed once
and cached), "all" fine-tunes the whole encoder. Several tasks share one encoder, each with its head.
The evaluation report (ai.textclf.evaluation) is the one every classifier version stores.
"""
from .model import ClassifierConfig, TaskData, TaskSpec, TextClassifier
from .uncertainty import STRATEGIES, uncertainty

__all__ = ["STRATEGIES", "ClassifierConfig", "TaskData", "TaskSpec", "TextClassifier", "uncertainty"]
