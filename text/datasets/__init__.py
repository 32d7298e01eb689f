"""Text data sets on ``ember.datasets`` (verified downloads into ``$EMBER_HOME/datasets``)
and the batching helpers for language modelling and classification."""

from .batching import PaddingCollator, batchify, bptt_batches, get_batch, pad_batch
from .language_modeling import PennTreebank, WikiText2, WikiText103
from .text_classification import AG_NEWS, IMDB, SST2
