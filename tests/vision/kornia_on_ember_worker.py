"""Subprocess side of test_kornia_on_ember.py, run under tests/torch_alias.py (so ``torch``
is ember): ``kornia_on_ember_worker.py INPUTS.npz OUT.npz CASE...`` runs each case on the
given inputs and writes the results (a case that raises is recorded as an error string under
``"<case>/error"``)."""

import os
import sys

import kornia
import torch  # ember, through the alias
from kornia_on_ember_cases import run_case

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from on_ember_harness import worker_main  # noqa: E402

if __name__ == "__main__":
    worker_main(lambda name, state: run_case(torch, kornia, name, state)[0],
                sys.argv[1], sys.argv[2], sys.argv[3:], torch)
