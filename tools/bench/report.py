"""The terminal table and the JSON file.

JSON layout: ``meta`` (run settings, versions, load average at start and end), ``ceilings``
(numpy matmul GFLOP/s and copy GB/s) and ``workloads``: per workload its ``kind``, ``unit``,
``flops`` per step, ``check`` (ok / MISMATCH / FAIL / self / -) and per framework its
``status``, ``median_ms``, ``round_medians_ms``, ``throughput`` (in ``unit``), ``gflops``,
``ceiling_fraction``, ``run_peak_mb``, ``peak_rss_mb``, ``gpu_peak_mb`` (GPU runs),
``loadavg_1m``, ``other_cpus`` (CPUs
used by other processes while timing), ``noisy``, ``fingerprint``, ``ratio`` (to torch),
``error`` and the raw per-round ``runs`` (every step time, losses, load average at start and
end, CPU contention).
"""

import json

from .aggregate import NOISY, REFERENCE

UNITS = {"samples/s": "sa/s", "tokens/s": "tok/s", "us/op": "us/op"}
NOTE_WIDTH = 160
BUSY_WARNING = 0.25  # mean CPUs used by other processes above which the table warns


def _ms(r):
    if "median_ms" not in r:
        return "- "
    ms = r["median_ms"]
    return (f"{ms:.3f}" if ms < 10 else f"{ms:.1f}") + ("*" if r.get("noisy") else " ")


def _throughput(r, unit):
    if "throughput" not in r:
        return "-"
    v = r["throughput"]
    text = f"{v:,.0f}" if v >= 100 else f"{v:.3g}"
    return f"{text} {UNITS.get(unit, unit)}"


def _gflops(r):
    if "gflops" not in r:
        return "-"
    frac = r.get("ceiling_fraction")
    return f"{r['gflops']:.1f}" + (f" ({frac:.0%})" if frac is not None else "")


def _mb(r):
    mb = r.get("gpu_peak_mb") or r.get("run_peak_mb") or r.get("peak_rss_mb")
    return "-" if mb is None else f"{mb:,.0f}"


def _ratio(r):
    return f"{r['ratio']:.2f}x " if "ratio" in r else "- "


def _columns(frameworks):
    """(header, width, framework, cell(entry, result)) for each column after the name."""
    compared = [n for n in frameworks if n != REFERENCE and REFERENCE in frameworks]
    cols = [(f"{n} ms", 10, n, lambda e, r: _ms(r)) for n in frameworks]
    cols += [(f"{n}/{REFERENCE}", 8, n, lambda e, r: _ratio(r)) for n in compared]
    cols += [(f"{n} thru", 15, n, lambda e, r: _throughput(r, e["unit"])) for n in frameworks]
    cols += [(f"{n} GF/s", 13, n, lambda e, r: _gflops(r)) for n in frameworks]
    cols += [(f"{n} MB", 8, n, lambda e, r: _mb(r)) for n in frameworks]
    return [(h, max(w, len(h)), n, fn) for h, w, n, fn in cols]


def _notes(entry):
    notes = []
    for name, r in entry["frameworks"].items():
        if r["status"] != "ok":
            status = r["status"].replace("_", " ")
            notes.append(f"{name}: {status} ({r.get('error', '')})")
    if entry.get("check_detail") and entry["check"] == "MISMATCH":
        notes.append(f"MISMATCH: {entry['check_detail']}")
    return ["    " + n[:NOTE_WIDTH] for n in notes]


def _load(entry, key):
    values = [r[key] for r in entry["frameworks"].values() if r.get(key) is not None]
    return f"{max(values):.2f}" if values else "-"


def _busy_warning(results):
    busy = [r["other_cpus"] for e in results["workloads"].values()
            for r in e["frameworks"].values() if r.get("other_cpus") is not None]
    mean = sum(busy) / len(busy) if busy else 0.0
    if mean <= BUSY_WARNING:
        return []
    return ["", f"WARNING: other processes kept {mean:.1f} of {results['meta']['cpu_count']} "
            "CPUs busy on average while timing; times and ratios are unreliable."]


def table(results):
    """The results as a fixed-width text table with a short header and legend."""
    meta, ceil = results["meta"], results["ceilings"]
    frameworks = meta["frameworks"]
    cols = _columns(frameworks)
    load = "/".join(f"{x:.2f}" for x in meta["loadavg_start"])
    end = "/".join(f"{x:.2f}" for x in meta.get("loadavg_end", ()))
    mm = ceil.get("matmul_gflops")
    lines = [
        f"ember bench: {meta.get('device', 'cpu')}, {meta['threads']} threads, "
        f"{meta['rounds']} round(s)"
        f"{', quick' if meta['quick'] else ''}, load avg {load} -> {end}, "
        f"{meta.get('duration_s', 0):.0f} s",
        f"numpy ceilings: matmul {mm} GFLOP/s ({ceil.get('matmul_n')}^2 float32), "
        f"copy {ceil.get('copy_gbs')} GB/s" if mm else f"numpy ceilings: {ceil.get('error')}",
        "",
        f"{'workload':<15}" + "".join(f" {h:>{w}}" for h, w, _, _ in cols) + "  load  busy  check",
    ]
    for name, entry in results["workloads"].items():
        cells = "".join(f" {fn(entry, entry['frameworks'][n]):>{w}}" for _, w, n, fn in cols)
        load, busy = _load(entry, "loadavg_1m"), _load(entry, "other_cpus")
        lines.append(f"{name:<15}{cells}{load:>6}{busy:>6}  {entry['check']}")
        lines.extend(_notes(entry))
    lines += _busy_warning(results)
    lines += [
        "",
        f"ms: median of all timed steps of all rounds (*: round medians differ by more than "
        f"{NOISY - 1:.0%}); {'x/' + REFERENCE}: time ratio",
        "thru: samples/s, tokens/s or microseconds per op; GF/s: analytic FLOPs / median time "
        "(% of the numpy matmul ceiling)",
        "MB: peak RSS while warming up and timing (on a GPU: peak device memory allocated);",
        "load: 1-min load average as runs began (counts the benchmark itself);",
        "busy: CPUs kept busy by other processes while timing; check: ok = agrees with torch on "
        "shared weights, self = loss finite and falling",
    ]
    return "\n".join(lines)


def write_json(results, path):
    """Write ``results`` to ``path`` as indented JSON."""
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":  # re-print a saved run: python -m tools.bench.report FILE.json
    import sys

    with open(sys.argv[1]) as f:
        print(table(json.load(f)))
