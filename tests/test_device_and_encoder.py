"""One device rule (`ai.device.resolve_device`) and one MiniLM loader (`ai.encoder.load_encoder`),
used by training runs, the recommenders and the text classifier alike."""
from __future__ import annotations

import pytest
import torch

from ai.device import DeviceUnavailable, autocast, resolve_device
from ai.encoder import load_encoder
from ai.recs.algorithms.content import ContentSimilarity, embed_texts
from ai.recs.algorithms.sasrec import SASRec
from ai.textclf.model import ClassifierConfig, TextClassifier


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)


@pytest.mark.parametrize("requested", [None, "auto", " AUTO ", ""])
def test_auto_is_the_cpu_without_cuda(no_cuda, requested):
    assert resolve_device(requested) == torch.device("cpu")


@pytest.mark.parametrize("requested", [None, "auto"])
def test_auto_is_the_current_cuda_device_when_there_is_one(fake_cuda, requested):
    assert resolve_device(requested) == torch.device("cuda", 3)


@pytest.mark.parametrize("requested", ["cuda", "cuda:1", torch.device("cuda", 0)])
def test_cuda_without_cuda_is_an_error_not_a_silent_cpu_run(no_cuda, requested):
    with pytest.raises(DeviceUnavailable, match=r"asked for, but this machine has no usable CUDA device"):
        resolve_device(requested)


def test_an_explicit_device_is_taken_as_given_and_nonsense_is_refused(fake_cuda):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    with pytest.raises(DeviceUnavailable, match=r"'gpu0' is not a torch device \(auto, cpu, cuda or cuda:N\)"):
        resolve_device("gpu0")


def test_the_models_pick_their_default_device_through_the_one_rule(fake_cuda):
    assert SASRec().device == torch.device("cuda", 3)
    assert ContentSimilarity().device == torch.device("cuda", 3)
    assert SASRec(device="cpu").device == ContentSimilarity(device="cpu").device == torch.device("cpu")


@pytest.mark.filterwarnings("ignore:CUDA is not available:UserWarning")
def test_autocast_is_bf16_on_cuda_and_nothing_on_the_cpu():
    with autocast(torch.device("cpu")):
        assert not torch.is_autocast_enabled()
    context = autocast(torch.device("cuda"))
    assert isinstance(context, torch.autocast) and (context.device, context.fast_dtype) == ("cuda", torch.bfloat16)


def test_content_model_and_text_classifier_share_one_frozen_encoder():
    tokenizer, model = load_encoder("cpu")
    assert load_encoder(torch.device("cpu")) == (tokenizer, model)  # loaded once per process and device
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    classifier = TextClassifier({"topic": ["a", "b"]}, ClassifierConfig(train_layers=1))
    assert classifier.tokenizer is tokenizer
    # the classifier trains a copy of the top layer, never the shared encoder
    assert all(p.requires_grad for p in classifier.top.parameters())
    assert classifier.top[0] is not model.encoder.layer[-1]
    assert not any(p.requires_grad for p in model.parameters())
    pooled = embed_texts(["red lantern"], device="cpu")
    assert pooled.shape == (1, model.config.hidden_size) and torch.allclose(pooled.norm(dim=1), torch.ones(1))
