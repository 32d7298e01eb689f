"""Module hook and copy idioms against PyTorch: what full backward (pre-)hooks receive for
inputs that don't require grad and for outputs that got no gradient,
``register_state_dict_post_hook``'s must-return-None rule, and ``copy.deepcopy`` of a
model after backward (its parameters start without ``.grad``)."""

import copy

import ember
import numpy as np
import pytest
import torch


def _as_lists(grads):
    return [None if g is None else np.asarray(g.detach().tolist()) for g in grads]


def _same_grads(e, t):
    assert len(e) == len(t)
    for a, b in zip(e, t):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-6)


def _hook_log(m):
    class Two(m.nn.Module):
        def forward(self, a, b, scale=1.0):
            return a * b * scale, a + b

    mod = Two()
    log = []
    mod.register_full_backward_pre_hook(lambda md, go: log.append(("pre", _as_lists(go))))
    mod.register_full_backward_hook(
        lambda md, gi, go: log.append(("post", _as_lists(gi), _as_lists(go))))
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = m.tensor([3.0, 4.0])
    o1, o2 = mod(a, b, scale=2.0)
    (o1.sum() + 3 * o2.sum()).backward()
    grads = [a.grad.tolist()]
    a.grad = None
    o1, _ = mod(a, b)
    o1.sum().backward()  # the second output gets no gradient
    grads.append(a.grad.tolist())
    return log, grads


def test_full_backward_hooks_see_torch_gradients():
    """grad_input is zeros for an input not requiring grad; grad_output is None for an
    output that received no gradient."""
    (elog, egrads), (tlog, tgrads) = _hook_log(ember), _hook_log(torch)
    assert egrads == tgrads
    assert [x[0] for x in elog] == [x[0] for x in tlog]
    for e, t in zip(elog, tlog):
        for ge, gt in zip(e[1:], t[1:]):
            _same_grads(ge, gt)


def test_state_dict_post_hook_must_return_none():
    """The public post hook may edit the state dict in place but not return one; the
    private ``_register_state_dict_hook`` may."""
    for m in (ember, torch):
        lin = m.nn.Linear(2, 2)
        lin.register_state_dict_post_hook(lambda mod, sd, prefix, lm: {"x": 1})
        with pytest.raises(RuntimeError, match="must return None"):
            lin.state_dict()
        lin = m.nn.Linear(2, 2)
        lin.register_state_dict_post_hook(lambda mod, sd, prefix, lm: sd.__delitem__("bias"))
        assert list(lin.state_dict()) == ["weight"]
        lin = m.nn.Linear(2, 2)
        lin._register_state_dict_hook(lambda mod, sd, prefix, lm: {"x": 1})
        assert lin.state_dict() == {"x": 1}


def test_deepcopy_of_model_after_backward_has_no_grads():
    """A deep-copied Parameter has no .grad (a plain tensor keeps its own), as torch."""
    for m in (ember, torch):
        net = m.nn.Sequential(m.nn.Linear(2, 3), m.nn.Linear(3, 1))
        net(m.ones(4, 2)).sum().backward()
        c = copy.deepcopy(net)
        assert all(p.grad is None for p in c.parameters())
        assert all(p.grad is not None for p in net.parameters())
        assert isinstance(c[0].weight, m.nn.Parameter) and c[0].weight.requires_grad
        t = m.ones(2, requires_grad=True)
        (t * 3).sum().backward()
        assert copy.deepcopy(t).grad.tolist() == [3.0, 3.0]
