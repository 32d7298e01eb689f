"""``gradcheck`` and ``gradgradcheck``: analytical gradients against finite differences, as
``torch.autograd.gradcheck``.

For every input that requires grad, each real coordinate (and, for complex inputs, each
imaginary coordinate) is perturbed by ``+-eps`` and the outputs' central differences form
the numerical Jacobian. The analytical one comes from one ``autograd.grad`` call per output
element (two for complex outputs: grad_output 1 and i). With PyTorch's convention for complex
numbers (the gradient of a real loss with respect to ``z = x + iy`` is ``dL/dx + i dL/dy``),
the entry for grad_output ``u`` and a perturbation ``d`` of the input is
``Re(conj(u) * dy)`` numerically and ``Re(conj(g) * d)`` analytically, and the two must agree
within ``atol + rtol * |numerical|``.

ember has no forward-mode AD: ``check_forward_ad=True`` raises ``NotImplementedError``.
``fast_mode`` is accepted and runs the full (slow-mode) check. Inputs should be float64 or
complex128, as in PyTorch.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import _tensor as _T  # module, not class: importable while ember._tensor loads
from .grad_mode import enable_grad

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError", "get_numerical_jacobian",
           "get_analytical_jacobian"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when a check fails."""


GradcheckError.__module__ = "ember.autograd"


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_diff(t) -> bool:
    return isinstance(t, _T.Tensor) and t._data.dtype.kind in "fc"


def _host(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach())


def _differentiable_outputs(func, inputs):
    return tuple(o for o in _as_tuple(func(*inputs)) if _is_diff(o))


def _coords(x: Tensor):
    """The real perturbation directions of input x: (flat index, multiplier)."""
    n = x.numel()
    out = [(k, 1.0) for k in range(n)]
    if x.is_complex():
        out += [(k, 1j) for k in range(n)]
    return out


def _eval_outputs(func, inputs):
    # grad mode stays on: the function may differentiate internally (gradgradcheck's does)
    with enable_grad():
        outs = _differentiable_outputs(func, inputs)
    return [_host(o).reshape(-1) for o in outs]


def _numerical_jacobian(func, inputs, i: int, eps: float):
    """Per output o: a complex array (n_coords, n_out_o) of central differences."""
    x = inputs[i]
    base = _host(x).copy()
    on_host = isinstance(x._data, np.ndarray)
    cols = None
    for k, mult in _coords(x):
        vals = []
        for s in (eps, -eps):
            arr = base.copy()
            flat = arr.reshape(-1)
            flat[k] = flat[k] + s * mult
            data = arr if on_host else _to_device(arr, x)
            p = _T.Tensor._make(data, x.requires_grad)
            args = list(inputs)
            args[i] = p
            vals.append(_eval_outputs(func, args))
        diffs = [(a.astype(np.complex128) - b.astype(np.complex128)) / (2 * eps)
                 for a, b in zip(vals[0], vals[1])]
        if cols is None:
            cols = [[] for _ in diffs]
        for o, d in enumerate(diffs):
            cols[o].append(d)
    if cols is None:
        return []
    return [np.stack(c) if c else np.zeros((0, 0), np.complex128) for c in cols]


def _to_device(arr: np.ndarray, like: Tensor):  # pragma: no cover - cuda
    from ..ops.op import xp_of

    return xp_of(like._data).asarray(arr)


def _grad_units(out: Tensor):
    """(flat index, grad_output multiplier) pairs for one output."""
    units = [(j, 1.0) for j in range(out.numel())]
    if out.is_complex():
        units += [(j, 1j) for j in range(out.numel())]
    return units


def _unit_tensor(out: Tensor, j: int, u):
    arr = np.zeros(out.numel(), dtype=out._data.dtype if isinstance(out._data, np.ndarray)
                   else np.dtype(out._data.dtype))
    arr[j] = u
    arr = arr.reshape(tuple(out.shape))
    if not isinstance(out._data, np.ndarray):  # pragma: no cover - cuda
        arr = _to_device(arr, out)
    return _T.Tensor._make(arr)


def _analytical(func, inputs, diff_idx, retain_check: bool, nondet_tol: float):
    """Per (output o, input i): array (n_units_o, n_coords_i) of Re(conj(g) * d)."""
    from . import grad as autograd_grad

    with enable_grad():
        outputs = _differentiable_outputs(func, inputs)
    diff_inputs = [inputs[i] for i in diff_idx]
    res = {}
    reentrant_ok = True
    for o, out in enumerate(outputs):
        units = _grad_units(out)
        rows = {i: [] for i in diff_idx}
        for j, u in units:
            if out.requires_grad:
                go = _unit_tensor(out, j, u)
                gs = autograd_grad(out, diff_inputs, go, retain_graph=True, allow_unused=True)
                if retain_check and j == 0 and u == 1.0:
                    again = autograd_grad(out, diff_inputs, go, retain_graph=True,
                                          allow_unused=True)
                    for a, b in zip(gs, again):
                        if (a is None) != (b is None) or (a is not None and np.abs(
                                _host(a) - _host(b)).max(initial=0) > nondet_tol):
                            reentrant_ok = False
            else:
                gs = (None,) * len(diff_inputs)
            for i, g, x in zip(diff_idx, gs, diff_inputs):
                if g is not None and tuple(g.shape) != tuple(x.shape):
                    raise GradcheckError("Gradient has shape mismatch")
                gv = np.zeros(x.numel(), np.complex128) if g is None else \
                    _host(g).reshape(-1).astype(np.complex128)
                row = [(np.conj(gv[k]) * mult).real for k, mult in _coords(x)]
                rows[i].append(row)
        for i in diff_idx:
            res[(o, i)] = np.array(rows[i], dtype=np.float64).reshape(
                len(units), len(_coords(inputs[i])))
    return outputs, res, reentrant_ok


def _numerical_entries(num: np.ndarray, out: Tensor) -> np.ndarray:
    """(n_units, n_coords) of Re(conj(u) * dy) from the (n_coords, n_out) differences."""
    blocks = [num.T.real]
    if out.is_complex():
        blocks.append(num.T.imag)  # u = i: Re(-i dy) = Im(dy)
    return np.concatenate(blocks, axis=0) if num.size else np.zeros(
        (len(_grad_units(out)), num.shape[0]))


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked=None) -> bool:
    """Checks the gradients of ``func`` at ``inputs`` against finite differences in double
    precision; returns True, or raises ``GradcheckError`` (returns False when
    ``raise_exception=False``)."""
    if check_forward_ad or check_batched_forward_grad:
        raise NotImplementedError("gradcheck: ember has no forward-mode AD "
                                  "(check_forward_ad=True)")
    tupled = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(tupled) if isinstance(x, _T.Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff_idx:
        if tupled[i]._data.dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", stacklevel=2)
    if not check_backward_ad:
        return True
    outputs, ana, reentrant_ok = _analytical(func, tupled, diff_idx, True, nondet_tol)
    if not outputs:
        return _check_no_diff_outputs(func, tupled, diff_idx, eps, atol, raise_exception)
    for i in diff_idx:
        nums = _numerical_jacobian(func, tupled, i, eps)
        for o, out in enumerate(outputs):
            n = _numerical_entries(nums[o], out)
            a = ana[(o, i)]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                return _fail(f"Jacobian mismatch for output {o} with respect to input {i},\n"
                             f"numerical:{n.T}\nanalytical:{a.T}\n", raise_exception)
    if not reentrant_ok:
        return _fail("Backward is not reentrant, i.e., running backward with same input and "
                     "grad_output multiple times gives different values, although analytical "
                     "gradient matches numerical gradient.The tolerance for nondeterminism was "
                     f"{nondet_tol}.", raise_exception)
    if check_grad_dtypes:
        if not _check_grad_dtypes(func, tupled, diff_idx):
            return _fail("Gradient has dtype mismatch", raise_exception)
    if check_undefined_grad and not _check_undefined_grad(func, tupled, diff_idx):
        return _fail("Expected backward function to handle undefined output grads. Please "
                     "look at \"Notes about undefined output gradients\" in "
                     "\"tools/autograd/derivatives.yaml\"", raise_exception)
    return True


def _check_no_diff_outputs(func, inputs, diff_idx, eps, atol, raise_exception) -> bool:
    for i in diff_idx:
        for num in _numerical_jacobian(func, inputs, i, eps):
            if num.size and np.abs(num).max() > atol:
                return _fail("Numerical gradient for function expected to be zero",
                             raise_exception)
    return True


def _check_grad_dtypes(func, inputs, diff_idx) -> bool:
    from .._creation import ones_like
    from . import grad as autograd_grad

    with enable_grad():
        outs = [o for o in _differentiable_outputs(func, inputs) if o.requires_grad]
        if not outs:
            return True
        gs = autograd_grad(outs, [inputs[i] for i in diff_idx],
                           [ones_like(o) for o in outs], allow_unused=True)
    return all(g is None or g.dtype == inputs[i].dtype for g, i in zip(gs, diff_idx))


def _check_undefined_grad(func, inputs, diff_idx) -> bool:
    """Backward through each output alone (the others' gradients undefined) must give zeros
    for zero grad_outputs."""
    from .._creation import zeros_like
    from . import grad as autograd_grad

    with enable_grad():
        outs = [o for o in _differentiable_outputs(func, inputs) if o.requires_grad]
        for o in outs:
            gs = autograd_grad(o, [inputs[i] for i in diff_idx], zeros_like(o),
                               retain_graph=True, allow_unused=True)
            for g in gs:
                if g is not None and np.abs(_host(g)).max(initial=0) != 0:
                    return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Checks second derivatives: ``gradcheck`` of the function
    ``(inputs, v) -> autograd.grad(func(inputs), inputs, v, create_graph=True)``, with
    random grad_outputs ``v`` (requiring grad) unless given."""
    if check_fwd_over_rev:
        raise NotImplementedError("gradgradcheck: ember has no forward-mode AD "
                                  "(check_fwd_over_rev=True)")
    tupled = _as_tuple(inputs)
    if grad_outputs is None:
        with enable_grad():
            outs = _differentiable_outputs(func, tupled)
        rng = np.random.default_rng(0)
        gos = []
        for o in outs:
            arr = rng.standard_normal(tuple(o.shape))
            if o.is_complex():
                arr = arr + 1j * rng.standard_normal(tuple(o.shape))
            arr = arr.astype(o._data.dtype if isinstance(o._data, np.ndarray) else np.float64)
            data = arr if isinstance(o._data, np.ndarray) else _to_device(arr, o)
            gos.append(_T.Tensor._make(data, True))
        grad_outputs = tuple(gos)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_go = len(grad_outputs)
    if not check_rev_over_rev:
        return True

    def new_func(*args):
        from . import grad as autograd_grad

        inp = args[:-n_go] if n_go else args
        gos = args[-n_go:] if n_go else ()
        with enable_grad():
            outs = _differentiable_outputs(func, inp)
            diff_in = [x for x in inp if isinstance(x, _T.Tensor) and x.requires_grad]
            pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
            if not pairs or not diff_in:
                return ()
            grads = autograd_grad([p[0] for p in pairs], diff_in, [p[1] for p in pairs],
                                  create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(new_func, tupled + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, fast_mode=fast_mode)


def get_numerical_jacobian(fn, inputs, target=None, eps: float = 1e-3,
                           grad_out: float = 1.0):
    """The numerical Jacobian of ``fn`` (one output) with respect to each input requiring
    grad: a tuple of (n_in, n_out) tensors (real inputs and outputs)."""
    tupled = _as_tuple(inputs)
    res = []
    for i, x in enumerate(tupled):
        if isinstance(x, _T.Tensor) and x.requires_grad:
            nums = _numerical_jacobian(fn, tupled, i, eps)
            arr = nums[0].real * grad_out if nums else np.zeros((x.numel(), 0))
            res.append(_T.Tensor._make(arr.astype(x._data.dtype)))
    return tuple(res)


def get_analytical_jacobian(inputs, output, nondet_tol: float = 0.0, grad_out: float = 1.0):
    """``(jacobians, reentrant, correct_grad_sizes, correct_grad_types)`` of ``output`` with
    respect to each input requiring grad (real inputs and output)."""
    tupled = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(tupled) if isinstance(x, _T.Tensor) and x.requires_grad]
    from . import grad as autograd_grad

    jacs = []
    sizes_ok = types_ok = True
    rows = {i: [] for i in diff_idx}
    for j in range(output.numel()):
        go = _unit_tensor(output, j, grad_out)
        gs = autograd_grad(output, [tupled[i] for i in diff_idx], go, retain_graph=True,
                           allow_unused=True)
        for i, g in zip(diff_idx, gs):
            x = tupled[i]
            if g is not None:
                sizes_ok &= tuple(g.shape) == tuple(x.shape)
                types_ok &= g.dtype == x.dtype
            rows[i].append(np.zeros(x.numel()) if g is None else _host(g).reshape(-1))
    for i in diff_idx:
        arr = np.array(rows[i]).T if rows[i] else np.zeros((tupled[i].numel(), 0))
        jacs.append(_T.Tensor._make(arr.astype(tupled[i]._data.dtype)))
    return tuple(jacs), True, sizes_ok, types_ok
