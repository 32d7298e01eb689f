"""The shared harness of the "library X on ember" tests (transformers, diffusers, peft and
accelerate): real torch runs each case in the test process; one subprocess started through
tests/torch_alias.py (``torch`` is ember there) runs the same cases on the same weights, and
the two sets of results are compared case by case.

Test side: ``run_on_ember(worker, weights, args, env)`` runs a worker script and returns its
results; ``case_results(ref, got, name)`` picks one case's pair (failing the test with the
ember traceback when the case raised there). Worker side: ``worker_main(run_one, ...)`` loads
the weights, runs ``run_one(name, state)`` per case and saves what each returns (a case that
raises is recorded as ``"<case>/error"``).
"""

import os
import subprocess
import sys
import tempfile
import traceback

import numpy as np
import pytest

TESTS = os.path.dirname(os.path.abspath(__file__))


def run_on_ember(worker: str, weights: dict, args: list, env: dict | None = None,
                 timeout: int = 300) -> dict:
    """Runs ``worker`` (a script path) under torch_alias with ``WEIGHTS.npz OUT.npz *args``
    and returns the arrays it saved."""
    with tempfile.TemporaryDirectory(prefix="on_ember_") as tmp:
        w_path, out_path = os.path.join(tmp, "weights.npz"), os.path.join(tmp, "out.npz")
        np.savez(w_path, **weights)
        proc = subprocess.run(
            [sys.executable, os.path.join(TESTS, "torch_alias.py"), worker, w_path, out_path,
             *args], capture_output=True, text=True, timeout=timeout,
            env=dict(os.environ, PYTHONWARNINGS="ignore", **(env or {})))
        assert proc.returncode == 0, proc.stderr[-4000:]
        got = np.load(out_path)
        return {k: got[k] for k in got.files}


def case_results(ref: dict, got: dict, name: str):
    """``(torch results, ember results)`` of case ``name``, after checking that ember ran
    it and gave every output with torch's shape and dtype."""
    if f"{name}/error" in got:
        pytest.fail(f"{name} raised under ember:\n{got[name + '/error']}")
    keys = [k for k in ref if k.startswith(name + "/")]
    assert keys and all(k in got for k in keys), [k for k in keys if k not in got]
    for k in keys:
        assert got[k].shape == ref[k].shape and got[k].dtype == ref[k].dtype, k
    return {k: ref[k] for k in keys}, {k: got[k] for k in keys}


def worker_main(run_one, weights_path: str, out_path: str, names: list, torch) -> None:
    """The worker side: ``run_one(name, state)`` returns one case's results (a dict of
    arrays) from its weights ``state``."""
    if torch.__name__ != "ember":
        raise SystemExit(f"{sys.argv[0]}: torch is {torch.__name__}, not ember: run it under "
                         "tests/torch_alias.py")
    weights = np.load(weights_path)
    results = {}
    for name in names:
        prefix = name + "/"
        state = {k[len(prefix):]: weights[k] for k in weights.files if k.startswith(prefix)}
        try:
            results.update(run_one(name, state))
        except Exception:  # reported by the test, case by case
            results[prefix + "error"] = np.array(traceback.format_exc())
    np.savez(out_path, **results)
