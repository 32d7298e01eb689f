"""ember.text: transformer models with Hugging Face's names (BERT, GPT-2), generation with a
key/value cache, tokenizers over the ``tokenizers`` package, sentence embeddings and text
data sets.

    from ember.text.models import GPT2LMHeadModel
    from ember.text.tokenizers import AutoTokenizer

``ember.text.models`` needs only ember; the tokenizers need ``pip install 'ember[text]'``.
"""

from . import datasets, models

__all__ = ["models", "datasets", "tokenizers", "sentence"]


def __getattr__(name: str):
    # the tokenizers (which import the optional 'tokenizers' package) load on first use
    import importlib

    if name in ("tokenizers", "sentence"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ember.text' has no attribute {name!r}")
