"""Subprocess side of test_peft_accelerate_on_ember.py, run under tests/torch_alias.py (so
``torch`` is ember): ``peft_on_ember_worker.py WEIGHTS.npz OUT.npz CKPT_ROOT CASE...`` runs
each case on the given weights and writes the results (a case that raises is recorded as an
error string under ``"<case>/error"``). Adapters and accelerator states are saved under
``CKPT_ROOT/ember``; the LoRA cases also load the adapters PyTorch saved under
``CKPT_ROOT/torch``."""

import os
import sys

import torch  # ember, through the alias
import transformers
from peft_on_ember_cases import run_case

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from on_ember_harness import worker_main  # noqa: E402

if __name__ == "__main__":
    transformers.logging.set_verbosity_error()
    ckpt_root = sys.argv[3]
    worker_main(lambda name, state: run_case(torch, name, state, ckpt_root)[0],
                sys.argv[1], sys.argv[2], sys.argv[4:], torch)
