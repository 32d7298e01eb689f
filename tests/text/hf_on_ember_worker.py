"""Subprocess side of test_hf_transformers_on_ember.py, run under tests/torch_alias.py (so
``torch`` is ember): ``hf_on_ember_worker.py WEIGHTS.npz OUT.npz CASE...`` runs each case on
the given weights and writes the results (a case that raises is recorded as an error
string under ``"<case>/error"``). ``pretrained`` cases load the checkpoint directories
under ``$HF_ON_EMBER_CKPT``."""

import os
import sys

import torch  # ember, through the alias
import transformers
from hf_on_ember_cases import run_case

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from on_ember_harness import worker_main  # noqa: E402

if __name__ == "__main__":
    transformers.logging.set_verbosity_error()
    worker_main(lambda name, state: run_case(torch, transformers, name, state,
                                             os.environ.get("HF_ON_EMBER_CKPT"))[0],
                sys.argv[1], sys.argv[2], sys.argv[3:], torch)
