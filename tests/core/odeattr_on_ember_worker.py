"""Subprocess side of test_torchdiffeq_captum_on_ember.py, run under tests/torch_alias.py (so
``torch`` is ember): ``odeattr_on_ember_worker.py WEIGHTS.npz OUT.npz CASE...`` runs each case
of odeattr_on_ember_cases.py on the given weights and writes the results (a case that raises
is recorded as an error string under ``"<case>/error"``)."""

import os
import sys
import warnings

import torch  # ember, through the alias
from odeattr_on_ember_cases import run_case

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from on_ember_harness import worker_main  # noqa: E402

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    worker_main(lambda name, state: run_case(torch, name, state)[0],
                sys.argv[1], sys.argv[2], sys.argv[3:], torch)
