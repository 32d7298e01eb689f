"""Matrix products: matmul (batched, broadcast), mm, bmm, addmm, dot, einsum.

Products go to BLAS through the array module's ``matmul``/``einsum`` (``optimize=True``
contracts through ``tensordot``)."""

from __future__ import annotations

import string

from .._tensor import Tensor
from ._prep import check_same_device, unbroadcast
from .op import Op, xp_of

__all__ = ["matmul", "mm", "bmm", "addmm", "dot", "einsum", "mv"]


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
        a, b = self.saved_tensors
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = unbroadcast(MatMul.apply(g, b.mT.conj() if b.is_complex() else b.mT),
                             a.shape)
        if self.next_functions[1][0] is not None:
            gb = unbroadcast(MatMul.apply(a.mT.conj() if a.is_complex() else a.mT, g), b.shape)
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


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``."""
    prod = mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        r = prod
    else:
        r = (input * beta if beta != 1 else input) + prod
    if out is not None:
        from .shape import resize_out

        return resize_out(out, r)
    return r


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Dot product of two 1-D tensors."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D "
                           "tensors")
    return matmul(input, other)


# -- einsum ------------------------------------------------------------------------------
def _parse_einsum(eq: str, shapes):
    eq = eq.replace(" ", "")
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
            if len(set(sub)) != len(sub):
                raise NotImplementedError("einsum backward with a repeated subscript in one "
                                          "operand (a diagonal) is not implemented in ember")
            others = [(s, o) for j, (s, o) in enumerate(zip(self.ins, ops)) if j != i]
            avail = set(self.out).union(*[set(s) for s, _ in others]) if others else \
                set(self.out)
            target = "".join(c for c in sub if c in avail)
            expr_ins = [self.out] + [s for s, _ in others]
            gi = Einsum.apply(g, *[o for _, o in others], ins=expr_ins, out=target,
                              save_inputs=tuple(range(len(others) + 1)))
            if target != sub:  # dims summed away in this operand alone: broadcast back
                shape = [t.shape[k] if c in avail else 1 for k, c in enumerate(sub)]
                gi = gi.reshape(shape).expand(t.shape)
            grads.append(gi)
        return tuple(grads)


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
