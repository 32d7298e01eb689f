"""ember.library.custom_op: a user op runs its kernel, differentiates through
register_autograd exactly as the same op does in torch, and is reachable as
ember.ops.<namespace>.<name>."""

import ember
import numpy as np
import pytest
import torch


def _declare(m, ns):
    @m.library.custom_op(f"{ns}::numpy_sin", mutates_args=())
    def numpy_sin(x: m.Tensor) -> m.Tensor:
        return m.from_numpy(np.sin(x.detach().cpu().numpy()))

    @numpy_sin.register_fake
    def _(x):
        return m.empty_like(x)

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


def test_custom_op_forward_backward_match_torch():
    vals = np.linspace(-2, 2, 7)
    got = []
    for m, ns in ((torch, "embertest_t"), (ember, "embertest_e")):
        op = _declare(m, ns)
        x = m.tensor(vals, requires_grad=True)
        y = op(x)
        (y * y).sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-12)
    np.testing.assert_allclose(got[1][1], got[0][1], rtol=1e-12)
    assert ember.ops.embertest_e.numpy_sin is not None
    with pytest.raises(AttributeError):
        ember.ops.embertest_e.nope  # noqa: B018


def test_kernel_per_device_and_errors():
    @ember.library.custom_op("embertest_k::twice", mutates_args=(), device_types="cpu")
    def twice(x):
        return x * 2

    twice.register_kernel("cpu", lambda x: x * 3)
    assert twice(ember.ones(2)).tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match="namespace::op_name"):
        ember.library.custom_op("noname", lambda x: x, mutates_args=())
    with pytest.raises(NotImplementedError, match="custom_op"):
        ember.library.Library("embertest", "DEF")
