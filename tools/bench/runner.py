"""Orchestration: one child process per (framework, workload, round), frameworks alternating.

For each workload the parent first has one child (torch when installed) write the model's
shared weights to an .npz in a temporary directory; then, round by round, it runs every
framework in turn (ember, torch, ember, torch, ...) so a noisy machine affects both alike,
and collects each child's JSON result from its stdout. A framework that fails a workload is
not retried in later rounds.
"""

import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .checks import compare
from .worker import MIN_ITERS, RESULT_TAG
from .workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
REFERENCE = "torch"


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

    def settings(self, workload):
        """(warmup, iters, budget_s) for one child running ``workload``."""
        if self.quick:
            warmup, iters, budget = min(workload.warmup, 2), max(MIN_ITERS, workload.iters // 4), 3
        else:
            warmup, iters, budget = workload.warmup, workload.iters, 10
        return (self.warmup if self.warmup is not None else warmup,
                self.iters if self.iters is not None else iters,
                self.budget_s if self.budget_s is not None else budget)

    @property
    def n_rounds(self):
        return self.rounds if self.rounds is not None else (1 if self.quick else 3)

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


def _summarize(workload, runs, ceiling):
    """Aggregate one framework's rounds of one workload."""
    bad = [r for r in runs if r.get("status") != "ok"]
    out = {"status": bad[0]["status"] if bad else "ok", "rounds": len(runs), "runs": runs}
    if bad:
        out["error"] = bad[0].get("error", "")
        if bad[0].get("status") != "check_failed":
            return out
    medians = [r["median_ms"] for r in runs]
    ms = statistics.median(medians)
    out.update(median_ms=ms, round_medians_ms=medians,
               iters=sum(len(r["times_ms"]) for r in runs),
               loadavg_1m=round(statistics.mean(r["loadavg_start"][0] for r in runs), 2),
               fingerprint=runs[0].get("fingerprint"),
               run_peak_mb=max((r.get("run_peak_mb") or 0) for r in runs) or None,
               peak_rss_mb=max((r.get("peak_rss_mb") or 0) for r in runs) or None)
    if workload.unit == "us/op":
        out["throughput"] = ms * 1e3 / workload.items
    else:
        out["throughput"] = workload.items / (ms / 1e3)
    if workload.flops:
        out["gflops"] = workload.flops / (ms / 1e3) / 1e9
        if ceiling:
            out["ceiling_fraction"] = out["gflops"] / ceiling
    return out


def _cross_check(entry):
    """Compare every framework's fingerprint with the reference's; set ``check``."""
    fws = entry["frameworks"]
    failed = [n for n, r in fws.items() if r["status"] == "check_failed"]
    if failed:
        entry["check"], entry["check_detail"] = "FAIL", f"{failed[0]}: {fws[failed[0]]['error']}"
        return
    ok = [n for n, r in fws.items() if r["status"] == "ok" and r.get("fingerprint")]
    ref = REFERENCE if REFERENCE in ok else None
    others = [n for n in ok if n != ref]
    if ref is None or not others:
        entry["check"] = "self" if ok and entry["kind"] == "train" else "-"
        return
    for name in others:
        reason = compare(fws[ref]["fingerprint"], fws[name]["fingerprint"])
        if reason:
            entry["check"], entry["check_detail"] = "MISMATCH", f"{name} vs {ref}: {reason}"
            return
    entry["check"] = "ok"


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def _run_workload(workload, opts, env, weights, ceiling, progress):
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
                        "budget_s": budget}
                res = _worker(spec, env, opts.child_timeout)
            runs[name].append(res)
            progress[0] += 1
            what = (f"{res['median_ms']:.3f} ms" if res.get("status") == "ok"
                    else f"{res.get('status')}: {res.get('error', '')}")
            _log(f"[{progress[0]}/{progress[1]}] {workload.name} {name} round {rnd + 1}: {what}")
    entry = {"kind": workload.kind, "unit": workload.unit, "items": workload.items,
             "flops": workload.flops, "warmup": warmup, "iters": iters, "budget_s": budget,
             "frameworks": {n: _summarize(workload, r, ceiling) for n, r in runs.items()}}
    fws = entry["frameworks"]
    if REFERENCE in fws and "median_ms" in fws[REFERENCE]:
        for name, res in fws.items():
            if name != REFERENCE and "median_ms" in res:
                res["ratio"] = res["median_ms"] / fws[REFERENCE]["median_ms"]
    _cross_check(entry)
    return entry


def _prepare(model, opts, env, tmp, cache):
    """Path of ``model``'s shared weights, writing them on first use; a dict on failure."""
    if model is None:
        return None
    if model not in cache:
        path = str(Path(tmp) / f"{model}.npz")
        spec = {"mode": "prepare", "framework": prepare_framework(opts.frameworks),
                "model": model, "weights": path, "threads": opts.threads}
        t0 = time.perf_counter()
        res = _worker(spec, env, opts.child_timeout)
        ok = res.get("status") == "ok"
        _log(f"weights for {model} by {spec['framework']}: "
             f"{'%.1f s' % (time.perf_counter() - t0) if ok else res.get('error')}")
        cache[model] = path if ok else {"status": "unsupported",
                                        "error": f"preparing weights: {res.get('error')}"}
    return cache[model]


def selected(only):
    """The workloads named in ``only`` (all when ``None``), in suite order."""
    if not only:
        return list(WORKLOADS.values())
    unknown = [n for n in only if n not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")
    return [w for w in WORKLOADS.values() if w.name in only]


def run_suite(opts):
    """Run the benchmark; returns the JSON-able results (see ``tools.bench.report``)."""
    workloads = selected(opts.only)
    env = child_env(opts.threads)
    started = time.time()
    meta = {"started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
            "frameworks": opts.frameworks, "threads": opts.threads, "rounds": opts.n_rounds,
            "quick": opts.quick, "cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "loadavg_start": os.getloadavg()}
    _log(f"load average {meta['loadavg_start']}; measuring numpy ceilings")
    ceilings = spawn(["tools.bench.ceilings"], env, opts.child_timeout)
    ceiling = ceilings.get("matmul_gflops")
    results = {}
    progress = [0, len(workloads) * len(opts.frameworks) * opts.n_rounds]
    with tempfile.TemporaryDirectory(prefix="ember-bench-") as tmp:
        cache = {}
        for workload in workloads:
            weights = _prepare(workload.model, opts, env, tmp, cache)
            results[workload.name] = _run_workload(workload, opts, env, weights, ceiling,
                                                   progress)
            stale = {w.model for w in workloads if w.name not in results}
            for model in [m for m in cache if m not in stale and isinstance(cache[m], str)]:
                os.remove(cache.pop(model))  # free disk as soon as no later workload needs it
    meta.update(loadavg_end=os.getloadavg(), duration_s=round(time.time() - started, 1))
    return {"meta": meta, "ceilings": ceilings, "workloads": results}
