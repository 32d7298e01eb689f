"""Subprocess side of test_hf_transformers_on_ember.py, run under tests/torch_alias.py (so
``torch`` is ember): ``hf_on_ember_worker.py WEIGHTS.npz OUT.npz CASE...`` runs each case on
the given weights and writes the results (a case that raises is recorded as an error
string under ``"<case>/error"``). ``pretrained`` cases load the checkpoint directories
under ``$HF_ON_EMBER_CKPT``."""

import os
import sys
import traceback

import numpy as np
import torch  # ember, through the alias
import transformers
from hf_on_ember_cases import run_case


def main(weights_path: str, out_path: str, names: list) -> None:
    transformers.logging.set_verbosity_error()
    if torch.__name__ != "ember":
        raise SystemExit(f"hf_on_ember_worker: torch is {torch.__name__}, not ember: run it "
                         "under tests/torch_alias.py")
    weights = np.load(weights_path)
    results = {}
    for name in names:
        prefix = name + "/"
        state = {k[len(prefix):]: weights[k] for k in weights.files if k.startswith(prefix)}
        try:
            results.update(run_case(torch, transformers, name, state,
                                    os.environ.get("HF_ON_EMBER_CKPT"))[0])
        except Exception:  # reported by the test, case by case
            results[prefix + "error"] = np.array(traceback.format_exc())
    np.savez(out_path, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
