"""Child process: one (framework, workload, round), or writing models' shared weights.

Run as ``python -m tools.bench.worker SPEC_JSON``. The parent has already set the
OMP/OPENBLAS/MKL thread variables. The single result line goes to stdout prefixed with
``RESULT_TAG``; any failure in building or running becomes ``status: "unsupported"`` with the
exception, so one missing feature costs one row, not the run.
"""

import importlib
import json
import os
import resource
import statistics
import sys
import time
import traceback

from .machine import CpuMeter, reset_peak_rss, status_mb

RESULT_TAG = "@@BENCH@@ "
MIN_ITERS = 3  # timed steps even past the budget: medians and "loss falls" need a few


def _error(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _set_threads(fw, threads, out):
    """Apply the thread count where the framework supports it; failures are only noted."""
    try:
        if threads and hasattr(fw, "set_num_threads"):
            fw.set_num_threads(threads)
        out["threads"] = fw.get_num_threads() if hasattr(fw, "get_num_threads") else None
    except Exception as exc:  # not worth losing the row over
        out["threads_error"] = _error(exc)


def _build(fw, workload, weights_path, device):
    from .models import MODELS
    from .weights import load

    model = None
    if workload.model is not None:
        if hasattr(fw, "manual_seed"):
            fw.manual_seed(0)
        model = MODELS[workload.model](fw)
        if weights_path:
            load(fw, model, weights_path)
        model = model.to(device)
    return workload.setup(fw, model, device)


def _synchronized(fw, step, device):
    """``step`` followed by waiting for the device's queued kernels (GPU timing)."""
    if not str(device).startswith("cuda"):
        return step

    def run():
        result = step()
        fw.cuda.synchronize()
        return result

    return run


def _time(step, workload, spec, out):
    """Warm up, then time steps; fills ``out`` and returns the last step's result."""
    budget = spec["budget_s"]
    losses = []
    result = None
    start = time.perf_counter()
    warmed = 0
    while warmed < spec["warmup"] and not (warmed and time.perf_counter() - start > budget / 2):
        result = step()
        warmed += 1
        if workload.kind == "train":
            losses.append(float(result))
    out["warmup_done"] = warmed
    out["peak_reset"] = reset_peak_rss()
    out["rss_ready_mb"] = status_mb("VmRSS")
    meter = CpuMeter().start()
    times = []
    start = time.perf_counter()
    while len(times) < spec["iters"]:
        t0 = time.perf_counter()
        result = step()
        times.append((time.perf_counter() - t0) * 1e3)
        if workload.kind == "train":
            losses.append(float(result))
        if len(times) >= MIN_ITERS and time.perf_counter() - start > budget:
            break
    out["cpu_contention"] = meter.stop()
    out["times_ms"] = [round(t, 4) for t in times]
    out["median_ms"] = statistics.median(times)
    out["losses"] = losses
    return result


def run(spec):
    """Run one benchmark child described by ``spec``; returns the result dict."""
    from .checks import check_losses
    from .workloads import WORKLOADS

    workload = WORKLOADS[spec["workload"]]
    out = {"framework": spec["framework"], "workload": workload.name, "status": "ok",
           "loadavg_start": os.getloadavg()}
    phase = "import"
    try:
        fw = importlib.import_module(spec["framework"])
        out["version"] = str(getattr(fw, "__version__", "?"))
        _set_threads(fw, spec["threads"], out)
        phase = "build"
        device = spec.get("device", "cpu")
        out["device"] = device
        step = _synchronized(fw, _build(fw, workload, spec.get("weights"), device), device)
        phase = "run"
        result = _time(step, workload, spec, out)
        phase = "check"
        if workload.kind == "train":
            out["fingerprint"] = {"losses": out["losses"][:2]}
            reason = check_losses(out["losses"])
            if reason:
                out.update(status="check_failed", error=reason)
        else:
            out["fingerprint"] = workload.describe(result)
    except Exception as exc:  # any failure is reported, not raised
        out.update(status="unsupported", phase=phase, error=_error(exc),
                   traceback=traceback.format_exc(limit=-4)[-2000:])
    out["run_peak_mb"] = status_mb("VmHWM") if out.get("peak_reset") else None
    if str(out.get("device", "cpu")).startswith("cuda") and phase != "import":
        try:  # the device's peak is what matters there; host RSS is mostly the runtime
            out["gpu_peak_mb"] = round(fw.cuda.max_memory_allocated() / 2**20, 1)
        except Exception as exc:
            out["gpu_peak_error"] = _error(exc)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["loadavg_end"] = os.getloadavg()
    return out


def prepare(spec):
    """Write shared weights for each model in ``spec["models"]`` (name -> .npz path)."""
    from .models import MODELS
    from .weights import write

    fw = importlib.import_module(spec["framework"])
    _set_threads(fw, spec.get("threads"), {})
    done = {}
    for name, path in spec["models"].items():
        try:
            done[name] = {"status": "ok", "entries": write(fw, MODELS[name](fw), path)}
        except Exception as exc:  # reported per model
            done[name] = {"status": "unsupported", "error": _error(exc)}
    return {"status": "ok", "models": done}


def main(argv):
    spec = json.loads(argv[1])
    if spec.get("mode") == "prepare":
        try:
            out = prepare(spec)
        except Exception as exc:
            out = {"status": "unsupported", "error": _error(exc),
                   "traceback": traceback.format_exc(limit=-4)[-2000:]}
    else:
        out = run(spec)
    sys.stdout.write(RESULT_TAG + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
