"""One helper to prove an op against PyTorch, in the spirit of tinygrad's ``helper_test_op``.

``compare(shapes, fn)`` builds identical seeded inputs for ember and torch, runs
``fn(m, *inputs)`` with ``m`` the module (``ember`` or ``torch``), and checks that both agree
on forward values, output dtype, shape and ``requires_grad``, and on the gradient of every
input. ``compare_raises`` checks that bad input raises the same kind of exception.
``gradcheck``/``gradgradcheck`` compare first and second derivatives with float64 finite
differences.
"""

from __future__ import annotations

import builtins

import ember
import numpy as np
import torch

__all__ = ["compare", "compare_raises", "gradcheck", "gradgradcheck", "to_numpy",
           "assert_close", "TOL"]

# (rtol, atol) per dtype name
TOL = {"float64": (1e-7, 1e-9), "float32": (1e-4, 1e-5), "float16": (1e-2, 1e-3),
       "bfloat16": (2e-2, 1e-2), "complex64": (1e-4, 1e-5), "complex128": (1e-7, 1e-9)}


def to_numpy(t) -> np.ndarray:
    """An ember or torch tensor's values as a numpy array (on the host)."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        if t.dtype == torch.bfloat16:
            t = t.float()
        return t.numpy()
    arr = np.asarray(t.detach().cpu())
    if t.dtype is ember.bfloat16:
        arr = arr.astype(np.float32)
    return arr


def _dtype_name(d) -> str:
    return str(d).split(".")[-1]


def _make_array(rng, shape, dtype: str, low, high):
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith(("int", "uint")):
        return rng.integers(int(low), int(high), size=shape).astype(dtype)
    arr = rng.uniform(low, high, size=shape)
    if dtype.startswith("complex"):
        arr = arr + 1j * rng.uniform(low, high, size=shape)
    if dtype == "bfloat16":
        return arr.astype(np.float32)
    return arr.astype(dtype)


def _leaf_pair(arr: np.ndarray, dtype: str, grad: bool, device: str, noncontig: bool):
    """(ember leaf, torch leaf, ember input, torch input) for one array."""
    requires = grad and (dtype.startswith(("float", "complex", "bfloat")))
    if noncontig and arr.ndim >= 2:
        base = np.ascontiguousarray(np.swapaxes(arr, -1, -2))
    elif noncontig and arr.ndim == 1:
        base = np.repeat(arr, 2)
    else:
        base = arr
    tl = torch.tensor(base, dtype=getattr(torch, dtype), requires_grad=requires)
    el = ember.tensor(base, dtype=getattr(ember, dtype), device=device,
                      requires_grad=requires)
    if noncontig and arr.ndim >= 2:
        ti, ei = tl.transpose(-1, -2), el.transpose(-1, -2)
    elif noncontig and arr.ndim == 1:
        ti, ei = tl[::2], el[::2]
    else:
        ti, ei = tl, el
    return el, tl, ei, ti


def _flatten(out) -> list:
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(_flatten(o))
        return res
    return [out]


def assert_close(e, t, rtol=None, atol=None, what="output", check_dtype=True) -> None:
    """Asserts an ember result equals a torch one: type, dtype, shape and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e)}"
        if check_dtype:
            assert e.dtype.name == _dtype_name(t.dtype), \
                f"{what}: dtype {e.dtype} != torch {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), \
            f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        tr, ta = TOL.get(_dtype_name(t.dtype), (0, 0))
        en, tn = to_numpy(e), to_numpy(t)
        if en.dtype.kind in "biu":
            np.testing.assert_array_equal(en, tn, err_msg=what)
        else:
            np.testing.assert_allclose(en, tn, rtol=rtol if rtol is not None else tr,
                                       atol=atol if atol is not None else ta,
                                       equal_nan=True, err_msg=what)
    elif isinstance(t, torch.Size):
        assert tuple(e) == tuple(t), f"{what}: {e} != {t}"
    elif isinstance(t, (bool, int, float, complex)) or t is None:
        assert type(e) is type(t), f"{what}: type {type(e)} != torch {type(t)}"
        if isinstance(t, float):
            np.testing.assert_allclose(e, t, rtol=rtol or 1e-6, atol=atol or 1e-7,
                                       equal_nan=True, err_msg=what)
        else:
            assert e == t, f"{what}: {e} != {t}"
    elif isinstance(t, torch.dtype):
        assert e.name == _dtype_name(t), f"{what}: {e} != {t}"
    else:
        assert e == t, f"{what}: {e!r} != {t!r}"


def _inputs(shapes, vals, dtype, low, high, seed, positive):
    rng = np.random.default_rng(seed)
    if vals is not None:
        return [np.asarray(v) for v in vals]
    arrs = []
    dtypes = dtype if isinstance(dtype, (list, tuple)) else [dtype] * len(shapes)
    for shape, d in zip(shapes, dtypes):
        a = _make_array(rng, shape, d, low, high)
        if positive and a.dtype.kind == "f":
            a = np.abs(a) + 0.1
        arrs.append(a)
    return arrs


def compare(shapes, fn, *, vals=None, dtype="float32", device="cpu", grad=True, low=-2.0,
            high=2.0, seed=0, noncontig=False, positive=False, rtol=None, atol=None,
            grad_rtol=None, grad_atol=None, check_dtype=True, backward=None):
    """Runs ``fn(m, *inputs)`` for m in (ember, torch) on identical inputs and compares
    forward results and the gradients of every input. ``grad`` makes the float inputs
    require grad; ``backward`` (default: ``grad``) says whether to backpropagate a weighted
    sum of the outputs and compare the inputs' gradients. Returns (ember out, torch out)."""
    arrs = _inputs(shapes, vals, dtype, low, high, seed, positive)
    dtypes = dtype if isinstance(dtype, (list, tuple)) else [dtype] * len(arrs)
    dtypes = [d if vals is None or isinstance(dtype, (list, tuple)) or
              a.dtype.kind in "fc" else a.dtype.name for d, a in zip(dtypes, arrs)]
    pairs = [_leaf_pair(a, d, grad, device, noncontig) for a, d in zip(arrs, dtypes)]
    e_in = [p[2] for p in pairs]
    t_in = [p[3] for p in pairs]
    t_out = fn(torch, *t_in)
    with _default_device(device):
        e_out = fn(ember, *e_in)
    t_flat, e_flat = _flatten(t_out), _flatten(e_out)
    assert len(t_flat) == len(e_flat), f"{len(e_flat)} outputs, torch has {len(t_flat)}"
    for i, (e, t) in enumerate(zip(e_flat, t_flat)):
        assert_close(e, t, rtol, atol, f"output {i}", check_dtype)
        if isinstance(t, torch.Tensor):
            assert e.requires_grad == t.requires_grad, \
                f"output {i}: requires_grad {e.requires_grad} != torch {t.requires_grad}"
    if not (grad if backward is None else backward):
        return e_out, t_out
    # gradients: a random weighting of every differentiable output
    rng = np.random.default_rng(seed + 1)
    t_loss = e_loss = None
    for e, t in zip(e_flat, t_flat):
        if isinstance(t, torch.Tensor) and t.requires_grad and t.dtype.is_floating_point:
            w = rng.uniform(0.5, 1.5, size=tuple(t.shape))
            tw = torch.tensor(w, dtype=t.dtype)
            ew = ember.tensor(w, dtype=e.dtype, device=device)
            tl, el = (t * tw).sum(), (e * ew).sum()
            t_loss = tl if t_loss is None else t_loss + tl
            e_loss = el if e_loss is None else e_loss + el
    if t_loss is None:
        return e_out, t_out
    t_loss.backward()
    e_loss.backward()
    for i, (el, tl) in enumerate(zip([p[0] for p in pairs], [p[1] for p in pairs])):
        if tl.grad is None:
            assert el.grad is None or not to_numpy(el.grad).any(), \
                f"input {i}: ember has a gradient, torch has none"
            continue
        assert el.grad is not None, f"input {i}: no gradient (torch has one)"
        assert_close(el.grad, tl.grad, grad_rtol if grad_rtol is not None else rtol,
                     grad_atol if grad_atol is not None else atol, f"grad of input {i}")
    return e_out, t_out


class _default_device:
    """Makes ``device`` ember's default device inside test functions, so tensors they build
    (``m.tensor(...)``, ``m.zeros(...)``) live beside the inputs on every device."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        self.prev = ember.get_default_device()
        ember.set_default_device(self.device)

    def __exit__(self, *exc):
        ember.set_default_device(self.prev)


def _builtin_base(exc_type):
    for k in exc_type.__mro__:
        if getattr(builtins, k.__name__, None) is k:
            return k
    return Exception


def compare_raises(shapes, fn, *, vals=None, dtype="float32", device="cpu", grad=False,
                   match=None, seed=0):
    """Asserts that ``fn`` raises in torch and that ember raises the same kind of exception
    (optionally with ``match`` fragments, all of which must appear in ember's message).
    Returns ember's exception."""
    arrs = _inputs(shapes, vals, dtype, -2.0, 2.0, seed, False)
    dtypes = dtype if isinstance(dtype, (list, tuple)) else [dtype] * len(arrs)
    dtypes = [d if vals is None or isinstance(dtype, (list, tuple)) or
              a.dtype.kind in "fc" else a.dtype.name for d, a in zip(dtypes, arrs)]
    pairs = [_leaf_pair(a, d, grad, device, False) for a, d in zip(arrs, dtypes)]
    try:
        fn(torch, *[p[3] for p in pairs])
    except Exception as exc:  # noqa: BLE001
        t_exc = exc
    else:
        raise AssertionError("torch did not raise")
    try:
        with _default_device(device):
            fn(ember, *[p[2] for p in pairs])
    except Exception as exc:  # noqa: BLE001
        e_exc = exc
    else:
        raise AssertionError(f"ember did not raise (torch raised {type(t_exc).__name__}: "
                             f"{t_exc})")
    want = _builtin_base(type(t_exc))
    assert isinstance(e_exc, want), (f"ember raised {type(e_exc).__name__}: {e_exc}; torch "
                                     f"raised {type(t_exc).__name__}: {t_exc}")
    for frag in ([match] if isinstance(match, str) else (match or [])):
        assert frag in str(e_exc), f"{frag!r} not in ember's message: {e_exc}"
    return e_exc


# -- numerical gradients -------------------------------------------------------------------
def _numerical_jacobian(fn, inputs, i, eps):
    """d(flattened output)/d(input i), by central differences in float64."""
    x = inputs[i]
    flat = x.detach().reshape(-1).clone()
    cols = []
    for k in range(flat.numel()):
        vals = []
        for s in (eps, -eps):
            p = flat.clone()
            p[k] = p[k] + s
            args = list(inputs)
            args[i] = p.reshape(x.shape)
            with ember.no_grad():
                vals.append(to_numpy(fn(*args)).reshape(-1).astype(np.float64))
        cols.append((vals[0] - vals[1]) / (2 * eps))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4) -> None:
    """Analytical gradients (``autograd.grad`` per output element) against finite differences,
    for every float64 input requiring grad."""
    out = fn(*inputs)
    n_out = out.numel()
    for i, x in enumerate(inputs):
        if not (isinstance(x, ember.Tensor) and x.requires_grad):
            continue
        num = _numerical_jacobian(fn, inputs, i, eps)
        ana = np.zeros((n_out, x.numel()))
        for k in range(n_out):
            go = ember.zeros(n_out, dtype=out.dtype, device=out.device)
            go[k] = 1.0
            (g,) = ember.autograd.grad(fn(*inputs), x, go.reshape(out.shape),
                                       allow_unused=True)
            if g is not None:
                ana[k] = to_numpy(g).reshape(-1)
        np.testing.assert_allclose(ana, num, rtol=rtol, atol=atol,
                                   err_msg=f"gradcheck: input {i}")


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0) -> None:
    """Second derivatives: the gradient of ``sum(u * d<v, fn>/d inputs)`` (built with
    ``create_graph=True``) against finite differences of that first derivative."""
    rng = np.random.default_rng(seed)
    out = fn(*inputs)
    v = ember.tensor(rng.uniform(0.5, 1.5, size=tuple(out.shape)), dtype=out.dtype,
                     device=out.device)
    pos = [i for i, x in enumerate(inputs) if isinstance(x, ember.Tensor) and x.requires_grad]
    us = {i: ember.tensor(rng.uniform(0.5, 1.5, size=tuple(inputs[i].shape)),
                          dtype=inputs[i].dtype, device=inputs[i].device) for i in pos}

    def first(*args, fresh=True):
        args = [a.detach().requires_grad_(True) if fresh and i in us else a
                for i, a in enumerate(args)]
        with ember.enable_grad():
            gs = ember.autograd.grad(fn(*args), [args[i] for i in pos], v, create_graph=True,
                                     allow_unused=True)
            total = None
            for i, g in zip(pos, gs):
                if g is not None:
                    s = (g * us[i]).sum()
                    total = s if total is None else total + s
        return total if total is not None else ember.zeros((), dtype=out.dtype)

    for i in pos:
        num = _numerical_jacobian(first, list(inputs), i, eps).reshape(-1)
        total = first(*inputs, fresh=False)
        g = None
        if total.requires_grad:
            (g,) = ember.autograd.grad(total, inputs[i], allow_unused=True)
        ana = np.zeros(inputs[i].numel()) if g is None else to_numpy(g).reshape(-1)
        np.testing.assert_allclose(ana, num, rtol=rtol, atol=atol,
                                   err_msg=f"gradgradcheck: input {i}")
