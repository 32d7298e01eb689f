"""Matrix products: matmul (batched, broadcast), mm, bmm, addmm, dot, einsum.

Products go to BLAS through the array module's ``matmul``/``einsum`` (``optimize=True``
contracts through ``tensordot``)."""

from __future__ import annotations

import string

import numpy as np

from .._autocast_state import fp32_op
from .._autocast_state import lower as _amp_lower
from .._autocast_state import state as _amp
from .._tensor import Tensor
from . import _parallel
from ._lowp import float32_gemm
from ._prep import check_same_device, unbroadcast
from .op import FLOAT32_64, Op, graphless, xp_of

__all__ = ["matmul", "mm", "bmm", "addmm", "dot", "einsum", "mv", "outer", "ger", "baddbmm",
           "addbmm", "addmv", "addr", "vdot", "tensordot", "inner", "kron", "cdist"]


def _pt(d) -> str:
    return {"float32": "float", "float64": "double", "int64": "long", "float16": "c10::Half",
            "int32": "int"}.get(d.name, d.name)


def _check_pair(a: Tensor, b: Tensor, op: str) -> None:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(b).__name__ if isinstance(a, Tensor) else type(a).__name__}")
    check_same_device(a, b, op)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                           f"{_pt(a.dtype)} != {_pt(b.dtype)}")


class MatMul(Op):
    """``a @ b`` for operands of at least 2 dims, broadcasting batch dims."""

    _name = "matmul"
    save_inputs = (0, 1)

    @float32_gemm
    def forward(self, a, b):
        xp = xp_of(a)
        if xp is np:
            return _parallel.matmul(a, b)  # split over threads where large enough
        return xp.matmul(a, b)

    def backward(self, g):
        if self._freed:
            self.saved_tensors  # noqa: B018 - raises the "backward a second time" error
        sa, sb = self._saved[0].shape, self._saved[1].shape  # shapes don't change in place
        ga = gb = None
        if self.next_functions[0][0] is not None:
            b = self.saved_tensor(1)
            ga = unbroadcast(MatMul.apply(g, b.mT.conj() if b.is_complex() else b.mT), sa)
        if self.next_functions[1][0] is not None:
            a = self.saved_tensor(0)
            gb = unbroadcast(MatMul.apply(a.mT.conj() if a.is_complex() else a.mT, g), sb)
        return ga, gb


def _shape_error(a: Tensor, b: Tensor):
    sa = "x".join(str(s) for s in (a.shape if a.ndim > 1 else (1,) + tuple(a.shape)))
    sb = "x".join(str(s) for s in b.shape)
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({sa} and {sb})")


def matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched operands."""
    if _amp.on:
        input, other = _amp_lower("matmul", input, other)
    return _matmul(input, other, out=out)


def _matmul(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """``matmul`` without the autocast step (for ops outside the autocast lists)."""
    if (type(input) is not Tensor or type(other) is not Tensor) and (
            getattr(input, "is_sparse", False) or getattr(other, "is_sparse", False)):
        from ..sparse import mm as sparse_mm

        return sparse_mm(input, other)
    _check_pair(input, other, "matmul")
    a, b = input, other
    sa, sb = a._data.shape, b._data.shape
    if not sa or not sb:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    ka = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src "
                               f"[{kb}] to have the same number of elements, but got {ka} and "
                               f"{kb} elements respectively")
        raise _shape_error(a, b)
    if len(sa) > 1 and len(sb) > 1:
        ad, bd = a._data, b._data
        if type(ad) is np.ndarray and type(bd) is np.ndarray and ad.dtype in FLOAT32_64 and \
                bd.dtype == ad.dtype and out is None and graphless():
            try:
                return Tensor._make(_parallel.matmul(ad, bd))  # no graph node (decoding)
            except ValueError:
                pass  # batch dims that don't broadcast: the op path raises PyTorch's error
        r = MatMul.apply(a, b)
    elif len(sa) == 1 and len(sb) == 1:
        r = MatMul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    elif len(sa) == 1:
        r = MatMul.apply(a.unsqueeze(0), b).squeeze(-2)
    else:
        r = MatMul.apply(a, b.unsqueeze(1)).squeeze(-1)
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Product of two 2-D matrices (the first may be sparse)."""
    if _amp.on:
        input, mat2 = _amp_lower("mm", input, mat2)
    if getattr(input, "is_sparse", False) or getattr(mat2, "is_sparse", False):
        from ..sparse import mm as sparse_mm

        return sparse_mm(input, mat2)
    _check_pair(input, mat2, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"{'self' if input.ndim != 2 else 'mat2'} must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise _shape_error(input, mat2)
    return _matmul(input, mat2, out=out)


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched product of 3-D tensors (b, n, m) @ (b, m, p) -> (b, n, p)."""
    if _amp.on:
        input, mat2 = _amp_lower("bmm", input, mat2)
    _check_pair(input, mat2, "bmm")
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return _matmul(input, mat2, out=out)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if _amp.on:
        input, vec = _amp_lower("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec.ndim}, {input.ndim}")
    return _matmul(input, vec)


class Addmm(Op):
    """``beta * input + alpha * (mat1 @ mat2)`` in one node (``input`` broadcast; with
    ``beta == 0`` its values, NaN included, are ignored)."""

    _name = "addmm"
    save_inputs = (1, 2)

    @float32_gemm
    def forward(self, c, a, b):
        self.c_shape = c.shape
        p = xp_of(a).matmul(a, b)
        if self.alpha != 1:
            p = p * p.dtype.type(self.alpha)
        if self.beta == 0:
            return xp_of(a).broadcast_to(p, np.broadcast_shapes(p.shape, c.shape)).copy()
        return p + (c if self.beta == 1 else c * c.dtype.type(self.beta))

    def backward(self, g):
        gc = ga = gb = None
        if self.next_functions[0][0] is not None:
            gc = unbroadcast(g * self.beta if self.beta != 1 else g, self.c_shape)
        ga_ = g * self.alpha if self.alpha != 1 else g
        if self.next_functions[1][0] is not None:
            ga = MatMul.apply(ga_, self.saved_tensor(1).mT)
        if self.next_functions[2][0] is not None:
            gb = MatMul.apply(self.saved_tensor(0).mT, ga_)
        return gc, ga, gb


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    if _amp.on:
        input, mat1, mat2 = _amp_lower("addmm", input, mat1, mat2)
    _check_pair(mat1, mat2, "addmm")
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"{'mat1' if mat1.ndim != 2 else 'mat2'} must be a matrix, got "
                           f"{mat1.ndim if mat1.ndim != 2 else mat2.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise _shape_error(mat1, mat2)
    check_same_device(input, mat1, "addmm")
    if input._data.dtype != mat1._data.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                           f"{_pt(input.dtype)} and {_pt(mat1.dtype)}")
    out_shape = (mat1.shape[0], mat2.shape[1])
    try:
        np.broadcast_shapes(tuple(input.shape), out_shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor ({out_shape[-1]}) must match the "
                           f"existing size ({input.shape[-1]}) at non-singleton dimension "
                           f"{input.ndim - 1}.  Target sizes: {list(out_shape)}.  Tensor "
                           f"sizes: {list(input.shape)}") from None
    r = Addmm.apply(input, mat1, mat2, beta=beta, alpha=alpha)
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-D tensors."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected 1-D tensors, got {input.ndim}-D and "
                           f"{vec2.ndim}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Dot product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return _matmul(input, other)


# -- einsum ------------------------------------------------------------------------------
def _parse_einsum(eq: str, shapes):
    eq = eq.replace(" ", "")
    for k, c in enumerate(eq):
        if not (c.isascii() and c.isalpha()) and c not in ".,->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {k} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(shapes) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    used = set(eq)
    spare = [c for c in string.ascii_letters if c not in used]
    ell_nd = 0
    for sub, shp in zip(ins, shapes):
        if "..." in sub:
            ell_nd = max(ell_nd, len(shp) - (len(sub) - 3))
    ell = "".join(spare[:ell_nd])
    full_ins = []
    for sub, shp in zip(ins, shapes):
        if "..." in sub:
            n = len(shp) - (len(sub) - 3)
            sub = sub.replace("...", ell[ell_nd - n:] if n else "")
        if len(sub) != len(shp):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                               f"({len(sub)}) does not match the number of dimensions "
                               f"({len(shp)}) for operand {len(full_ins)}")
        full_ins.append(sub)
    seen: dict = {}
    for k, (sub, shp) in enumerate(zip(full_ins, shapes)):
        for c, n in zip(sub, shp):
            prev = seen.get(c)
            if prev is None or prev == 1:
                seen[c] = n
            elif n != prev and n != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} "
                                   f"which does not broadcast with previously seen size {prev}")
    if rhs is None:
        counts: dict = {}
        for sub in full_ins:
            for c in sub:
                counts[c] = counts.get(c, 0) + 1
        rhs = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        rhs = rhs.replace("...", ell)
    return full_ins, rhs


class Einsum(Op):
    _name = "einsum"
    opmath = True

    @float32_gemm
    def forward(self, *arrays):
        xp = xp_of(arrays[0])
        expr = ",".join(self.ins) + "->" + self.out
        if xp.__name__ == "numpy":
            return xp.einsum(expr, *arrays, optimize=len(arrays) > 1)
        return xp.einsum(expr, *arrays)

    def backward(self, g):
        ops = self.saved_tensors
        grads = []
        for i, (sub, t) in enumerate(zip(self.ins, ops)):
            if self.next_functions[i][0] is None:
                grads.append(None)
                continue
            grads.append(self._operand_grad(g, i, sub, t, ops))
        return tuple(grads)

    def _operand_grad(self, g, i, sub, t, ops):
        """The gradient of operand ``i``: an einsum of ``g`` with the other operands, with
        the labels only this operand had put back (broadcast), size-1 broadcast labels summed,
        and repeated labels (a diagonal) embedded back with identity matrices."""
        others = [(s, o) for j, (s, o) in enumerate(zip(self.ins, ops)) if j != i]
        avail = set(self.out).union(*[set(s) for s, _ in others])
        uniq = "".join(dict.fromkeys(sub))  # labels in first-appearance order
        target = "".join(c for c in uniq if c in avail)
        gi = Einsum.apply(g, *[o for _, o in others], ins=[self.out] + [s for s, _ in others],
                          out=target, save_inputs=tuple(range(len(others) + 1)))
        size = {c: t.shape[sub.index(c)] for c in uniq}
        if target != uniq:  # labels summed away in this operand alone: put them back
            got = dict(zip(target, gi.shape))
            gi = gi.reshape([got[c] if c in avail else 1 for c in uniq])
        summed = [k for k, c in enumerate(uniq) if size[c] == 1 and gi.shape[k] != 1]
        if summed:  # labels this operand broadcast (size 1 against a larger size)
            gi = gi.sum(summed, keepdim=True)
        shape = [size[c] for c in uniq]
        if list(gi.shape) != shape:
            gi = gi.expand(shape)
        if uniq == sub:
            return gi
        # a repeated label: gi holds the diagonal; embed it with one identity per repeat
        used = set("".join(self.ins) + self.out)
        fresh = iter(c for c in string.ascii_letters if c not in used)
        full, eyes, seen = "", [], set()
        for c in sub:
            if c in seen:
                n = next(fresh)
                eyes.append(c + n)
                full += n
            else:
                seen.add(c)
                full += c
        from .._creation import eye

        mats = [eye(size[e[0]], dtype=t.dtype, device=t.device) for e in eyes]
        return Einsum.apply(gi, *mats, ins=[uniq] + eyes, out=full,
                            save_inputs=tuple(range(len(mats) + 1)))


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation over operands, as ``torch.einsum`` (ellipsis supported)."""
    if _amp.on:
        operands = _amp_lower("einsum", *operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for o in operands[1:]:
        check_same_device(operands[0], o, "einsum")
        if o.dtype != operands[0].dtype:
            raise RuntimeError(f"einsum(): operands do not have the same dtype: "
                               f"{operands[0].dtype} and {o.dtype}")
    ins, out = _parse_einsum(equation, [o.shape for o in operands])
    return Einsum.apply(*operands, ins=ins, out=out, save_inputs=tuple(range(len(operands))))


# -- more products ---------------------------------------------------------------------------
class AddScaled(Op):
    """``beta * input + alpha * product`` (``input`` broadcast to the product's shape; with
    ``beta == 0`` its values, NaN included, are ignored)."""

    _name = "add_scaled"
    opmath = True

    def forward(self, c, p):
        xp = xp_of(p)
        self.c_shape = c.shape
        shape = np.broadcast_shapes(c.shape, p.shape)
        if self.alpha != 1:
            p = p * p.dtype.type(self.alpha)
        if self.beta == 0:
            return xp.broadcast_to(p, shape).copy()
        return p + (c if self.beta == 1 else c * c.dtype.type(self.beta))

    def backward(self, g):
        gc = unbroadcast(g * self.beta if self.beta != 1 else g, self.c_shape) \
            if self.next_functions[0][0] is not None else None
        gp = g * self.alpha if self.alpha != 1 else g
        return gc, gp


def _add_scaled(input: Tensor, prod: Tensor, beta, alpha, name: str, out=None) -> Tensor:
    check_same_device(input, prod, name)
    if input._data.dtype != prod._data.dtype:
        raise RuntimeError(f"{name}: expected self and the product to have the same dtype, "
                           f"but got {_pt(input.dtype)} and {_pt(prod.dtype)}")
    if prod._data.dtype.kind in "iub" and (isinstance(alpha, float) or
                                           isinstance(beta, float)):
        if name == "addr":
            raise RuntimeError("For integral input tensors, argument alpha must not be a "
                               "floating point number.")
        alpha, beta = int(alpha), int(beta)  # PyTorch truncates them for the others
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(prod.shape))
    except ValueError:
        shape = None
    if shape != tuple(prod.shape):
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[-1]}) must match the "
                           f"existing size ({input.shape[-1] if input.ndim else 1}) at "
                           f"non-singleton dimension {max(input.ndim - 1, 0)}.  Target sizes: "
                           f"{list(prod.shape)}.  Tensor sizes: {list(input.shape)}")
    r = AddScaled.apply(input, prod, beta=beta, alpha=alpha)
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
            out=None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    if _amp.on:
        input, batch1, batch2 = _amp_lower("baddbmm", input, batch1, batch2)
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha, "baddbmm", out)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1,
           out=None) -> Tensor:
    """``beta * input + alpha * sum_i batch1[i] @ batch2[i]``."""
    if _amp.on:
        input, batch1, batch2 = _amp_lower("addbmm", input, batch1, batch2)
    p = bmm(batch1, batch2)
    return _add_scaled(input, p.sum(0) if p.shape[0] else p.new_zeros(p.shape[1:]), beta,
                       alpha, "addbmm", out)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``."""
    if _amp.on:
        input, mat, vec = _amp_lower("addmv", input, mat, vec)
    _check_pair(mat, vec, "addmv")
    if mat.ndim != 2 or vec.ndim != 1 or mat.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.ndim else 1}),"
                           f" mat ({'x'.join(str(s) for s in mat.shape)}), vec "
                           f"({vec.shape[0] if vec.ndim else 1})")
    return _add_scaled(input, mv(mat, vec), beta, alpha, "addmv", out)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    if _amp.on:
        input, vec1, vec2 = _amp_lower("addr", input, vec1, vec2)
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.ndim}-D"
                           if vec1.ndim != 1 else
                           f"addr: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return _add_scaled(input, outer(vec1, vec2), beta, alpha, "addr", out)


def vdot(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """``sum(conj(input) * other)`` of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    if input.dtype != other.dtype:
        raise RuntimeError(f"vdot : expected both vectors to have same dtype, but found "
                           f"{_pt(input.dtype).capitalize()} and "
                           f"{_pt(other.dtype).capitalize()}")
    r = dot(input.conj(), other)
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contracts ``dims`` (a count of trailing/leading dims, or two lists of dims) of ``a``
    and ``b``."""
    if _amp.on:
        a, b = _amp_lower("tensordot", a, b)
    _check_pair(a, b, "tensordot")
    if isinstance(dims, Tensor):
        dims = dims.tolist() if dims.ndim else int(dims.item())
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims="
                               f"{dims}")
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} "
                           f"and {len(db)}")
    from .._tensor import _wrap_dim

    da = [_wrap_dim(d, a.ndim) for d in da]
    db = [_wrap_dim(d, b.ndim) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[x]} in dim {x} and second has size {b.shape[y]} in "
                               f"dim {y}")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    am = a.permute(fa + da).reshape(-1, k)
    bm = b.permute(db + fb).reshape(k, -1)
    r = MatMul.apply(am, bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def inner(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The sum of products over the last dimension of both (a product for 0-d inputs)."""
    if _amp.on:
        input, other = _amp_lower("inner", input, other)
    if input.ndim == 0 or other.ndim == 0:
        r = input * other
    else:
        if input.shape[-1] != other.shape[-1]:
            raise RuntimeError(f"inner() the last dimension must match on both input tensors "
                               f"but got shapes {list(input.shape)} and {list(other.shape)}")
        r = tensordot(input, other, ([-1], [-1]))
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def kron(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The Kronecker product (each element of ``input`` scales a copy of ``other``)."""
    nd = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    sa, sb = list(a.shape), list(b.shape)
    ia, ib = [], []
    for x, y in zip(sa, sb):
        ia += [x, 1]
        ib += [1, y]
    r = (a.reshape(ia) * b.reshape(ib)).reshape([x * y for x, y in zip(sa, sb)])
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


# -- pairwise distances ----------------------------------------------------------------------
class Cdist(Op):
    """``||x1[..., i, :] - x2[..., j, :]||_p`` for all pairs (batch dims broadcast)."""

    _name = "cdist"
    opmath = True
    save_inputs = (0, 1)
    save_output = True

    def forward(self, a, b):
        xp = xp_of(a)
        p = self.p
        self.shapes = (a.shape, b.shape)
        if p == 2 and self.use_mm:
            an = (a * a).sum(-1)[..., :, None]
            bn = (b * b).sum(-1)[..., None, :]
            d2 = an + bn - 2 * xp.matmul(a, xp.swapaxes(b, -1, -2))
            return xp.sqrt(xp.maximum(d2, 0))
        diff = xp.abs(a[..., :, None, :] - b[..., None, :, :])
        if p == 0:
            return (diff != 0).sum(-1).astype(a.dtype)
        if p == 1:
            return diff.sum(-1)
        if p == 2:
            return xp.sqrt((diff * diff).sum(-1))
        if p == np.inf:
            return diff.max(-1) if diff.shape[-1] else diff.sum(-1)
        return (diff ** a.dtype.type(p)).sum(-1) ** a.dtype.type(1 / p)

    def backward(self, g):
        from .elementwise import where

        a, b = self.saved_tensors
        d = self.saved_output()
        p = self.p
        sa, sb = self.shapes
        if p == 0:
            return a * 0, b * 0
        if p == 2:
            gg = where(d == 0, 0.0, g / where(d == 0, 1.0, d))
            ga = a * gg.sum(-1, keepdim=True) - _matmul(gg, b)
            gb = b * gg.sum(-2).unsqueeze(-1) - _matmul(gg.mT, a)
            return unbroadcast(ga, sa), unbroadcast(gb, sb)
        diff = a.unsqueeze(-2) - b.unsqueeze(-3)
        ge = g.unsqueeze(-1)
        if p == 1:
            gd = diff.sign() * ge
        elif p == np.inf:
            gd = diff.sign() * (diff.abs() == d.unsqueeze(-1)) * ge
        else:
            ad = diff.abs()
            de = d.unsqueeze(-1)
            bad = (ad == 0) | (de == 0) if p < 1 else (de == 0)
            gd = where(bad, 0.0, diff.sign() * where(ad == 0, 0.0, ad) ** (p - 1) * ge /
                       where(de == 0, 1.0, de) ** (p - 1))
        return unbroadcast(gd.sum(-2), sa), unbroadcast(-gd.sum(-3), sb)


@fp32_op("cdist")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Pairwise ``p``-norm distances between the rows of ``x1`` (..., P, M) and ``x2``
    (..., R, M)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, "
                           f"{'X1' if x1.ndim < 2 else 'X2'} got: "
                           f"{x1.ndim if x1.ndim < 2 else x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    for x in (x1, x2):
        if x._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, "
                               f"{'X1' if x is x1 else 'X2'} got: {_pt(x.dtype).capitalize()}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
             "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    check_same_device(x1, x2, "cdist")
    a, b = x1, x2
    if a.dtype != b.dtype:
        raise RuntimeError(f"cdist: X1 and X2 must have the same dtype, got {a.dtype} and "
                           f"{b.dtype}")
    use_mm = compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == modes[0] and (a.shape[-2] > 25 or b.shape[-2] > 25))
    return Cdist.apply(a, b, p=float(p), use_mm=use_mm)
