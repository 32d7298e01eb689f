"""Memory formats against PyTorch: channels_last / channels_last_3d strides from ``to``,
``contiguous``, ``clone`` and the ``*_like`` factories, ``is_contiguous(memory_format=)``
answers, rank errors, ``Module.to(memory_format=)``, the layouts convolution, batch norm
and max pooling return, and a channels-last CNN's outputs and gradients."""

import ember
import numpy as np
import pytest
import torch


def _pair(shape, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return ember.from_numpy(a.copy()), torch.from_numpy(a.copy())


def _fmt(lib, name):
    return getattr(lib, name)


FORMATS = ["contiguous_format", "channels_last", "channels_last_3d", "preserve_format"]


def _convert(lib, x, name, op):
    mf = _fmt(lib, name)
    if op == "to":
        return x.to(memory_format=mf)
    return getattr(x, op)(memory_format=mf)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (2, 3, 1, 1), (2, 1, 4, 5), (1, 3, 4, 1),
                                   (2, 3, 2, 4, 5), (2, 1, 1, 1, 5)])
def test_to_contiguous_clone_strides(shape):
    e, t = _pair(shape)
    for name in ("channels_last", "channels_last_3d", "contiguous_format"):
        for op in ("to", "contiguous", "clone"):
            try:
                tr = _convert(torch, t, name, op)
            except RuntimeError as exc:
                with pytest.raises(RuntimeError, match=str(exc).split(" format")[0]):
                    _convert(ember, e, name, op)
                continue
            er = _convert(ember, e, name, op)
            assert er.stride() == tr.stride(), (name, op, er.stride(), tr.stride())
            np.testing.assert_array_equal(er.numpy(), tr.numpy())
            for q in FORMATS[:3]:
                assert er.is_contiguous(memory_format=_fmt(ember, q)) == \
                    tr.is_contiguous(memory_format=_fmt(torch, q)), (name, op, q)


def test_views_and_is_contiguous():
    e, t = _pair((2, 3, 4, 5))
    cases = [lambda x: x, lambda x: x.transpose(1, 3), lambda x: x[:, :, ::2],
             lambda x: x.permute(0, 2, 3, 1), lambda x: x.permute(0, 3, 1, 2),
             lambda x: x.to(memory_format=_fmt(torch if isinstance(x, torch.Tensor) else
                                                ember, "channels_last"))[:, :2]]
    for f in cases:
        er, tr = f(e), f(t)
        for q in FORMATS[:3]:
            assert er.is_contiguous(memory_format=_fmt(ember, q)) == \
                tr.is_contiguous(memory_format=_fmt(torch, q))
        assert er.is_contiguous() == tr.is_contiguous()


def test_preserved_by_clone_like_and_elementwise():
    e, t = _pair((2, 3, 4, 5))
    e, t = e.to(memory_format=ember.channels_last), t.to(memory_format=torch.channels_last)
    for name in ("zeros_like", "ones_like", "empty_like"):
        assert getattr(ember, name)(e).stride() == getattr(torch, name)(t).stride()
    assert ember.full_like(e, 2.0).stride() == torch.full_like(t, 2.0).stride()
    assert ember.zeros_like(e, memory_format=ember.contiguous_format).stride() == \
        torch.zeros_like(t, memory_format=torch.contiguous_format).stride()
    assert e.clone().stride() == t.clone().stride()
    for f in (lambda x: x + 1, lambda x: x * x, lambda x: x.relu(), lambda x: x.exp()):
        assert f(e).stride() == f(t).stride()


def test_module_to_memory_format():
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                             torch.nn.Linear(4, 4))
    em = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.BatchNorm2d(4),
                             ember.nn.Linear(4, 4))
    tm.to(memory_format=torch.channels_last)
    em.to(memory_format=ember.channels_last)
    for (k, a), (_, b) in zip(em.state_dict().items(), tm.state_dict().items()):
        assert a.stride() == b.stride(), k
    assert isinstance(em[0].weight, ember.nn.Parameter) and em[0].weight.requires_grad
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last"):
        ember.randn(2, 3).to(memory_format=ember.channels_last)


def test_cnn_in_channels_last_matches_torch():
    """A conv-bn-relu-pool network on channels-last input and weights: torch's outputs,
    gradients and per-layer layouts (float64)."""
    torch.manual_seed(0)

    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1),
                             nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                             nn.Flatten(), nn.Linear(16, 5)).double()

    tm, em = build(torch), build(ember)
    em.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                        for k, v in tm.state_dict().items()})
    tm.to(memory_format=torch.channels_last)
    em.to(memory_format=ember.channels_last)
    e, t = _pair((4, 3, 12, 12), seed=3)
    e = e.to(memory_format=ember.channels_last).requires_grad_()
    t = t.to(memory_format=torch.channels_last).requires_grad_()
    layouts = {}
    for lib, model, x in ((torch, tm, t), (ember, em, e)):
        h, seen = x, []
        for layer in model:
            h = layer(h)
            if h.ndim == 4:
                seen.append(h.is_contiguous(memory_format=lib.channels_last))
        layouts[lib.__name__] = seen
        (h * h).sum().backward()
    assert layouts["ember"] == layouts["torch"]
    np.testing.assert_allclose(em(e).detach().numpy(), tm(t).detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (k, a), (_, b) in zip(em.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=k)
