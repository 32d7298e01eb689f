"""Tokenizers with transformers' API over the Hugging Face ``tokenizers`` package
(``pip install 'ember[text]'``): BERT's WordPiece, GPT-2's byte-level BPE, ``AutoTokenizer``
and training new vocabularies."""

from .auto import AutoTokenizer
from .base import BatchEncoding, PreTrainedTokenizerFast
from .bert import BertTokenizer, BertTokenizerFast
from .gpt2 import GPT2Tokenizer, GPT2TokenizerFast
from .training import train_bpe, train_wordpiece
