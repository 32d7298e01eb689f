"""Aggregating one workload's child results: medians, throughput, GFLOP/s and the cross-check.

``torch`` is the reference: other frameworks' times are given as ratios to it and their result
fingerprints are compared with its.
"""

import statistics

from .checks import compare

REFERENCE = "torch"
NOISY = 1.25  # round medians further apart than this mark a result as noisy


def summarize(workload, runs):
    """Aggregate one framework's rounds of one workload."""
    bad = [r for r in runs if r.get("status") != "ok"]
    out = {"status": bad[0]["status"] if bad else "ok", "rounds": len(runs), "runs": runs}
    if bad:
        out["error"] = bad[0].get("error", "")
        if bad[0].get("status") != "check_failed":
            return out
    medians = [r["median_ms"] for r in runs]
    times = [t for r in runs for t in r["times_ms"]]
    ms = statistics.median(times)
    others = [r["cpu_contention"]["others"] for r in runs
              if (r.get("cpu_contention") or {}).get("others") is not None]
    out.update(median_ms=ms, round_medians_ms=medians, iters=len(times),
               noisy=max(medians) > NOISY * min(medians),
               loadavg_1m=round(statistics.mean(r["loadavg_start"][0] for r in runs), 2),
               other_cpus=round(statistics.mean(others), 2) if others else None,
               fingerprint=runs[0].get("fingerprint"),
               run_peak_mb=max((r.get("run_peak_mb") or 0) for r in runs) or None,
               peak_rss_mb=max((r.get("peak_rss_mb") or 0) for r in runs) or None,
               gpu_peak_mb=max((r.get("gpu_peak_mb") or 0) for r in runs) or None)
    if workload.unit == "us/op":
        out["throughput"] = ms * 1e3 / workload.items
    else:
        out["throughput"] = workload.items / (ms / 1e3)
    if workload.flops:
        out["gflops"] = workload.flops / (ms / 1e3) / 1e9
    return out


def add_ratios(entry):
    """Give every framework with a time its ``ratio`` to the reference's time."""
    fws = entry["frameworks"]
    if "median_ms" not in fws.get(REFERENCE, {}):
        return
    for name, res in fws.items():
        if name != REFERENCE and "median_ms" in res:
            res["ratio"] = res["median_ms"] / fws[REFERENCE]["median_ms"]


def cross_check(entry):
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
