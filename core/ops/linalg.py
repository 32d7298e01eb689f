"""Matrix products: matmul (batched, broadcast), mm, bmm, addmm, dot, einsum.

Products go to BLAS through the array module's ``matmul``/``einsum`` (``optimize=True``
contracts through ``tensordot``)."""

from __future__ import annotations

import string

import numpy as np

from .._tensor import Tensor
from ._prep import check_same_device, unbroadcast
from .op import Op, xp_of

__all__ = ["matmul", "mm", "bmm", "addmm", "dot", "einsum", "mv", "outer", "ger"]


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

    def forward(self, a, b):
        return xp_of(a).matmul(a, b)

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
    _check_pair(input, other, "matmul")
    a, b = input, other
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D")
    ka = a.shape[-1]
    kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        if a.ndim == 1 and b.ndim == 1:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{ka}] and src "
                               f"[{kb}] to have the same number of elements, but got {ka} and "
                               f"{kb} elements respectively")
        raise _shape_error(a, b)
    if a.ndim == 1 and b.ndim == 1:
        r = MatMul.apply(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    elif a.ndim == 1:
        r = MatMul.apply(a.unsqueeze(0), b).squeeze(-2)
    elif b.ndim == 1:
        r = MatMul.apply(a, b.unsqueeze(1)).squeeze(-1)
    else:
        r = MatMul.apply(a, b)
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def mm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Product of two 2-D matrices."""
    _check_pair(input, mat2, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"{'self' if input.ndim != 2 else 'mat2'} must be a matrix")
    if input.shape[1] != mat2.shape[0]:
        raise _shape_error(input, mat2)
    return matmul(input, mat2, out=out)


def bmm(input: Tensor, mat2: Tensor, *, out=None) -> Tensor:
    """Batched product of 3-D tensors (b, n, m) @ (b, m, p) -> (b, n, p)."""
    _check_pair(input, mat2, "bmm")
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if input.ndim != 3 else
                           "batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{input.shape[0]}, {input.shape[2]}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    return matmul(input, mat2, out=out)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {vec.ndim}, {input.ndim}")
    return matmul(input, vec)


class Addmm(Op):
    """``beta * input + alpha * (mat1 @ mat2)`` in one node (``input`` broadcast; with
    ``beta == 0`` its values, NaN included, are ignored)."""

    _name = "addmm"
    save_inputs = (1, 2)

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
    return matmul(input, other)


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
