"""A lazy module's uninitialized parameters and buffers refuse computation before the first
forward, as PyTorch's (ValueError naming the op), while the moves a module makes on them
(``to``, ``double``, ``state_dict``) still work and the first forward materializes them."""

import ember
import pytest
import torch


@pytest.mark.parametrize("use", [
    lambda fw, p: p + 1,
    lambda fw, p: p.sum(),
    lambda fw, p: p * p,
    lambda fw, p: fw.exp(p),
    lambda fw, p: p.mean(),
])
def test_ops_on_uninitialized_parameters_raise_as_torch(use):
    for fw in (ember, torch):
        m = fw.nn.LazyLinear(3)
        for p in (m.weight, m.bias):
            with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
                use(fw, p)


def test_uninitialized_buffers_raise_and_lazy_modules_still_work():
    for fw in (ember, torch):
        bn = fw.nn.LazyBatchNorm1d()
        with pytest.raises(ValueError, match="uninitialized parameter"):
            bn.running_mean + 1
        m = fw.nn.LazyLinear(3).double()
        assert m.weight.dtype == fw.float64
        y = m(fw.ones(2, 4, dtype=fw.float64))
        assert tuple(y.shape) == (2, 3) and tuple(m.weight.shape) == (3, 4)
        assert float((m.weight + 1).sum()) == pytest.approx(float(m.weight.sum()) + 12)
        assert tuple(bn(fw.ones(4, 5)).shape) == (4, 5)
