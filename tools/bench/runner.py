"""Orchestration: one child process per (framework, workload, round), frameworks alternating.

First one child (torch when installed) writes the shared weights of every model the selected
workloads use to .npz files in a temporary directory. Then, workload by workload and round by
round, the parent runs every framework in turn (ember, torch, ember, torch, ...) so a noisy
machine affects both alike, and collects each child's JSON result from its stdout. A framework
that fails a workload is not retried in later rounds. The numpy ceilings are measured at the
start and, for runs longer than a minute, again at the end.
"""

import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .aggregate import REFERENCE, add_ratios, cross_check, summarize
from .worker import RESULT_TAG
from .workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
RECHECK_AFTER_S = 60  # runs longer than this measure the ceilings again at the end
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Options:
    """What to run; ``None`` iteration settings mean the workload's own (scaled when quick)."""

    frameworks: list = field(default_factory=lambda: ["ember", "torch"])
    only: list | None = None
    threads: int = os.cpu_count() or 1
    rounds: int | None = None
    quick: bool = False
    iters: int | None = None
    warmup: int | None = None
    budget_s: float | None = None
    timeout_s: float | None = None
    ceilings: bool = True
    device: str = "cpu"

    def settings(self, workload):
        """(warmup, iters, budget_s) for one child running ``workload``."""
        if self.quick:
            warmup, iters, budget = min(workload.warmup, 2), max(2, workload.iters // 4), 3
        else:
            warmup, iters, budget = workload.warmup, workload.iters, 6
        return (self.warmup if self.warmup is not None else warmup,
                self.iters if self.iters is not None else iters,
                self.budget_s if self.budget_s is not None else budget)

    @property
    def n_rounds(self):
        return self.rounds if self.rounds is not None else (1 if self.quick else 2)

    @property
    def child_timeout(self):
        return self.timeout_s if self.timeout_s is not None else (150 if self.quick else 300)


def child_env(threads):
    """The environment for children: thread variables set, the repository importable."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def spawn(args, env, timeout):
    """Run ``python -m args...`` and return the JSON it printed (or a failure record)."""
    try:
        proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, timeout=timeout,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"no result within {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": "crashed", "error": f"exit {proc.returncode}: {tail}"[:300]}


def _worker(spec, env, timeout):
    return spawn(["tools.bench.worker", json.dumps(spec)], env, timeout)


def prepare_framework(frameworks):
    """The framework that writes shared weights: torch when installed, else the first."""
    return REFERENCE if importlib.util.find_spec(REFERENCE) else frameworks[0]


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _run_workload(workload, opts, env, weights, progress):
    warmup, iters, budget = opts.settings(workload)
    runs = {name: [] for name in opts.frameworks}
    for rnd in range(opts.n_rounds):
        for name in opts.frameworks:
            if runs[name] and runs[name][-1].get("status") != "ok":
                continue
            if isinstance(weights, dict):  # preparing the weights failed
                res = dict(weights, loadavg_start=os.getloadavg())
            else:
                spec = {"framework": name, "workload": workload.name, "weights": weights,
                        "threads": opts.threads, "warmup": warmup, "iters": iters,
                        "budget_s": budget, "device": opts.device}
                res = _worker(spec, env, opts.child_timeout)
            runs[name].append(res)
            progress[0] += 1
            what = (f"{res['median_ms']:.3f} ms" if res.get("status") == "ok"
                    else f"{res.get('status')}: {res.get('error', '')}")
            _log(f"[{progress[0]}/{progress[1]}] {workload.name} {name} round {rnd + 1}: {what}")
    entry = {"kind": workload.kind, "unit": workload.unit, "items": workload.items,
             "flops": workload.flops, "warmup": warmup, "iters": iters, "budget_s": budget,
             "frameworks": {n: summarize(workload, r) for n, r in runs.items()}}
    add_ratios(entry)
    cross_check(entry)
    return entry


def _prepare(workloads, opts, env, tmp):
    """Shared weights for every model the workloads use: model -> .npz path, or a failure."""
    models = sorted({w.model for w in workloads if w.model is not None})
    if not models:
        return {}
    paths = {m: str(Path(tmp) / f"{m}.npz") for m in models}
    name = prepare_framework(opts.frameworks)
    spec = {"mode": "prepare", "framework": name, "models": paths, "threads": opts.threads}
    t0 = time.perf_counter()
    res = _worker(spec, env, opts.child_timeout * 2)
    _log(f"shared weights for {', '.join(models)} written by {name} in "
         f"{time.perf_counter() - t0:.1f} s")
    prepared = {}
    for model in models:
        done = res.get("models", {}).get(model, res)
        if done.get("status") == "ok":
            prepared[model] = paths[model]
        else:
            error = f"preparing weights with {name}: {done.get('error')}"
            prepared[model] = {"status": done.get("status", "crashed"), "error": error}
    return prepared


def _ceilings(env, opts, first):
    """Measure the numpy ceilings; given the ``first`` measurement (at the start of the run),
    keep the better of the two, since other processes can only lower a ceiling."""
    if not opts.ceilings:
        return {"error": "not measured (--no-ceilings)"}
    now = spawn(["tools.bench.ceilings"], env, opts.child_timeout)
    if first is None or "matmul_gflops" not in first:
        return now
    best = dict(first, start=first, end=now)
    for key in ("matmul_gflops", "copy_gbs"):
        best[key] = max(first[key], now.get(key) or 0)
    return best


def selected(only, quick=False):
    """The workloads named in ``only`` (else all, or the quick subset), in suite order."""
    if not only:
        return [w for w in WORKLOADS.values() if w.quick or not quick]
    unknown = [n for n in only if n not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    return [w for w in WORKLOADS.values() if w.name in only]


def run_suite(opts):
    """Run the benchmark; returns the JSON-able results (see ``tools.bench.report``)."""
    workloads = selected(opts.only, opts.quick)
    env = child_env(opts.threads)
    started = time.time()
    meta = {"started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "frameworks": opts.frameworks, "threads": opts.threads, "rounds": opts.n_rounds,
            "quick": opts.quick, "device": opts.device, "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "loadavg_start": os.getloadavg()}
    _log(f"load average {meta['loadavg_start']}")
    ceilings = _ceilings(env, opts, None)
    results = {}
    progress = [0, len(workloads) * len(opts.frameworks) * opts.n_rounds]
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        prepared = _prepare(workloads, opts, env, tmp)
        for i, workload in enumerate(workloads):
            results[workload.name] = _run_workload(
                workload, opts, env, prepared.get(workload.model), progress)
            later = {w.model for w in workloads[i + 1:]}
            path = prepared.get(workload.model)
            if isinstance(path, str) and workload.model not in later:
                os.remove(path)  # free the disk as soon as no later workload needs it
    if time.time() - started > RECHECK_AFTER_S:
        ceilings = _ceilings(env, opts, ceilings)
    for entry in results.values():
        for res in entry["frameworks"].values():
            if "gflops" in res and ceilings.get("matmul_gflops"):
                res["ceiling_fraction"] = res["gflops"] / ceilings["matmul_gflops"]
    meta.update(loadavg_end=os.getloadavg(), duration_s=round(time.time() - started, 1))
    return {"meta": meta, "ceilings": ceilings, "workloads": results}
