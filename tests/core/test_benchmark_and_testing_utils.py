"""ember.utils.benchmark (Timer, Measurement, Compare) and the deprecated
ember.testing.assert_allclose."""

import ember
import ember.utils.benchmark as benchmark
import pytest


def test_timer_measures_and_compare_tabulates():
    x = ember.randn(16, 16)
    t = benchmark.Timer(stmt="x @ x", globals={"x": x}, label="mm", sub_label="16",
                        description="matmul", num_threads=1)
    seen = []
    m = t.blocked_autorange(callback=lambda n, s: seen.append((n, s)), min_run_time=0.05)
    assert len(m.times) == len(seen) >= 1 and all(n == m.number_per_run for n, _ in seen)
    assert 0 < m.median < 0.1 and m.mean > 0 and m.iqr >= 0
    assert "\nmm: 16\nmatmul\n" in repr(m)  # title, then description (as PyTorch)
    one = t.timeit(50)
    assert one.number_per_run == 50 and len(one.times) == 1
    ad = benchmark.Timer("x + x", globals={"x": x}, label="mm", sub_label="16",
                         description="add").adaptive_autorange(max_run_time=0.1)
    table = str(benchmark.Compare([m, ad]))
    assert "matmul" in table and "add" in table and "microseconds" in table
    assert ember.get_num_threads() >= 1
    with pytest.raises(NotImplementedError, match="blocked_autorange"):
        t.autorange()


def test_assert_allclose_is_deprecated_but_works():
    with pytest.warns(FutureWarning, match="deprecated"):
        ember.testing.assert_allclose(ember.tensor([1.0, float("nan")]),
                                      [1.0, float("nan")])
    with pytest.warns(FutureWarning), pytest.raises(AssertionError):
        ember.testing.assert_allclose(ember.tensor([1.0]), ember.tensor([2.0]))


def test_measurement_and_task_spec_match_torch():
    import torch
    import torch.utils.benchmark as tbench

    for lib, bench in ((torch, tbench), (ember, benchmark)):
        x = lib.ones(8, 8)
        t = bench.Timer(stmt="x @ x", globals={"x": x}, label="mm", sub_label="8",
                        description="float")
        m = t.timeit(3)
        spec = m.task_spec
        assert (spec.stmt, spec.label, spec.sub_label, spec.description,
                spec.num_threads) == ("x @ x", "mm", "8", "float", 1)
        assert m.title == "mm: 8" and m.stmt == "x @ x" and m.env is None
        assert isinstance(m.has_warnings, bool) and 1 <= m.significant_figures <= 6
        # ``torch`` is in the globals unasked, and indented block statements are dedented
        bench.Timer(stmt="""
            y = torch.ones(2)
            y.sum()
        """).timeit(2)
        # quartiles by linear interpolation, merge pools replicates of one task
        fixed = bench.Measurement(1, [1.0, 2.0, 3.0, 4.0, 10.0], spec)
        assert fixed.median == 3.0 and fixed.iqr == 2.0
        merged = bench.Measurement.merge([fixed, bench.Measurement(2, [4.0], spec)])
        assert len(merged) == 1 and merged[0].times == [1.0, 2.0, 3.0, 4.0, 10.0, 2.0]
