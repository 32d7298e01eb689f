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
    assert "mm" in repr(m) and "16: matmul" in repr(m)
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
