"""``torch.autograd.graph`` utilities against PyTorch: ``register_multi_grad_hook`` (both
modes) and ``Node.metadata``."""

import ember
import pytest
import torch


def _multi_hook_log(m, mode):
    leaf = m.tensor([1.0, 2.0], requires_grad=True)
    x = leaf * 1  # non-leaf tensors: the order their gradients come in is fixed
    y = x * 3
    z = leaf * 5
    log = []
    if mode == "all":
        def fn(grads):
            log.append([None if g is None else g.tolist() for g in grads])
    else:
        def fn(grad):
            log.append(grad.tolist())
    h = m.autograd.graph.register_multi_grad_hook((x, z), fn, mode=mode)
    (y * 2).sum().backward(retain_graph=True)
    (y * z).sum().backward(retain_graph=True)
    m.autograd.grad((z * z).sum(), leaf, retain_graph=True)
    h.remove()
    (y * z).sum().backward()  # removed: no call
    return log


@pytest.mark.parametrize("mode", ["all", "any"])
def test_register_multi_grad_hook(mode):
    """One call per backward pass, with None for tensors the pass did not reach."""
    assert _multi_hook_log(ember, mode) == _multi_hook_log(torch, mode)


def test_register_multi_grad_hook_bad_mode():
    for m in (ember, torch):
        with pytest.raises(ValueError):
            m.autograd.graph.register_multi_grad_hook([m.ones(1, requires_grad=True)],
                                                      print, mode="some")


def test_node_metadata():
    """grad_fn.metadata is a dict kept for the node's lifetime."""
    for m in (ember, torch):
        y = m.ones(2, requires_grad=True) * 2
        md = y.grad_fn.metadata
        assert isinstance(md, dict) and md == {}
        md["tag"] = 1
        assert y.grad_fn.metadata == {"tag": 1}
