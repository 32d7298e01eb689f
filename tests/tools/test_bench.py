"""End-to-end test of tools.bench on torch alone, plus its checks on synthetic results."""

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _import(name):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


def _bench(tmp_path, *args):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "tools.bench", "--json", str(out), "--rounds", "1", "--iters", "3",
         "--warmup", "1", "--budget", "1", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stdout


def test_torch_end_to_end(tmp_path):
    pytest.importorskip("torch")
    results, table = _bench(tmp_path, "--frameworks", "torch", "--only", "mlp_infer,op_overhead")
    meta = results["meta"]
    assert meta["frameworks"] == ["torch"] and meta["rounds"] == 1
    assert len(meta["loadavg_start"]) == 3 and len(meta["loadavg_end"]) == 3
    assert results["ceilings"]["matmul_gflops"] > 0 and results["ceilings"]["copy_gbs"] > 0
    assert list(results["workloads"]) == ["mlp_infer", "op_overhead"]
    for name, entry in results["workloads"].items():
        r = entry["frameworks"]["torch"]
        assert r["status"] == "ok", r
        assert r["median_ms"] > 0 and r["throughput"] > 0 and r["iters"] == 3
        assert r["peak_rss_mb"] > 0 and r["loadavg_1m"] >= 0
        assert r["fingerprint"]["output"]["finite"]
        assert name in table
    mlp, overhead = results["workloads"]["mlp_infer"], results["workloads"]["op_overhead"]
    assert mlp["unit"] == "samples/s" and mlp["flops"] > 0
    assert 0 < mlp["frameworks"]["torch"]["ceiling_fraction"]
    assert overhead["unit"] == "us/op" and overhead["frameworks"]["torch"]["throughput"] > 0
    assert overhead["frameworks"]["torch"]["fingerprint"]["output"]["head"] == [7.0]


def test_missing_feature_is_reported_not_raised(tmp_path):
    # "tools" is a module without a PyTorch API: the row degrades, the run completes
    results, table = _bench(tmp_path, "--frameworks", "tools", "--only", "op_overhead",
                            "--no-ceilings")
    r = results["workloads"]["op_overhead"]["frameworks"]["tools"]
    assert r["status"] == "unsupported" and r["error"].startswith("AttributeError:")
    assert "tools: unsupported (AttributeError:" in table


def test_compare_catches_wrong_outputs_and_losses():
    checks = _import("tools.bench.checks")
    np = pytest.importorskip("numpy")
    out = np.random.default_rng(0).standard_normal((8, 10))
    ref = {"output": checks.summarize(out)}
    assert checks.compare(ref, {"output": checks.summarize(out * (1 + 1e-5))}) is None
    assert "differs" in checks.compare(ref, {"output": checks.summarize(out * 1.01)})
    assert "shape" in checks.compare(ref, {"output": checks.summarize(out[:4])})
    assert checks.compare({"losses": [2.3, 2.0]}, {"losses": [2.3, 2.01]}) is None
    assert "loss 0" in checks.compare({"losses": [2.3, 2.0]}, {"losses": [2.4, 2.0]})
    assert checks.compare({"tokens": [1, 2, 3]}, {"tokens": [1, 2, 3]}) is None
    assert "diverge" in checks.compare({"tokens": [1, 2, 3]}, {"tokens": [1, 5, 3]})
    assert checks.check_losses([2.3, 2.1, 1.9]) is None
    assert "did not fall" in checks.check_losses([2.3, 2.4])
    assert "not finite" in checks.check_losses([2.3, float("nan")])


def test_cross_check_marks_mismatch():
    aggregate = _import("tools.bench.aggregate")
    good = {"status": "ok", "fingerprint": {"output": {"shape": [2], "head": [1.0, 2.0],
                                                       "mean": 1.5, "absmean": 1.5, "std": 0.5,
                                                       "finite": True}}}
    bad = json.loads(json.dumps(good))
    bad["fingerprint"]["output"]["head"] = [1.0, 2.5]
    entry = {"kind": "infer", "frameworks": {"ember": bad, "torch": good}}
    aggregate.cross_check(entry)
    assert entry["check"] == "MISMATCH" and "ember vs torch" in entry["check_detail"]
    entry = {"kind": "infer", "frameworks": {"ember": good, "torch": good}}
    aggregate.cross_check(entry)
    assert entry["check"] == "ok"


def test_device_option_reaches_every_child(tmp_path):
    pytest.importorskip("torch")
    results, table = _bench(tmp_path, "--frameworks", "torch", "--only", "mlp_infer",
                            "--device", "cpu", "--no-ceilings")
    assert results["meta"]["device"] == "cpu" and table.startswith("ember bench: cpu,")
    run = results["workloads"]["mlp_infer"]["frameworks"]["torch"]["runs"][0]
    assert run["status"] == "ok" and run["device"] == "cpu"


def test_unavailable_device_degrades_the_row(tmp_path):
    ember = _import("ember")
    if ember.cuda.is_available():
        pytest.skip("checks the no-CUDA behaviour")
    results, table = _bench(tmp_path, "--frameworks", "ember", "--only", "mlp_infer",
                            "--device", "cuda", "--no-ceilings")
    r = results["workloads"]["mlp_infer"]["frameworks"]["ember"]
    assert r["status"] == "unsupported" and r["runs"][0]["phase"] == "build"
    assert "ember: unsupported" in table


def test_gpu_steps_are_timed_to_a_synchronize():
    worker = _import("tools.bench.worker")
    calls = []

    class FakeCuda:
        @staticmethod
        def synchronize():
            calls.append("sync")

    class FakeFw:
        cuda = FakeCuda

    def step():
        calls.append("step")
        return 1.5

    assert worker._synchronized(FakeFw, step, "cpu") is step
    timed = worker._synchronized(FakeFw, step, "cuda:0")
    assert timed() == 1.5 and calls == ["step", "sync"]
