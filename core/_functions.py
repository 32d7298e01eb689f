"""The ``ember.*`` op namespace (``ember.add``, ``ember.cat``, ...), gathered from the op
modules where each op is defined."""

from __future__ import annotations

from ._creation import bernoulli, multinomial, normal
from .ops.compare import *  # noqa: F403
from .ops.compare import __all__ as _c
from .ops.elementwise import *  # noqa: F403
from .ops.elementwise import __all__ as _e
from .ops.elementwise import (
    absolute,
    clamp_max,
    clamp_min,
    clip,
    divide,
    fix,
    multiply,
    negative,
    sgn,
    subtract,
)
from .ops.index import *  # noqa: F403
from .ops.index import __all__ as _i
from .ops.linalg import *  # noqa: F403
from .ops.linalg import __all__ as _l
from .ops.reduce import *  # noqa: F403
from .ops.reduce import __all__ as _r
from .ops.reduce import nansum
from .ops.shape import *  # noqa: F403
from .ops.shape import __all__ as _s
from .ops.shape import moveaxis, select, swapdims
from .ops.spectral import *  # noqa: F403
from .ops.spectral import __all__ as _sp

__all__ = list(_c) + list(_e) + list(_i) + list(_l) + list(_r) + list(_s) + [
    "absolute", "clamp_max", "clamp_min", "clip", "divide", "fix", "multiply", "negative",
    "sgn", "subtract", "nansum", "moveaxis", "select", "swapdims", "clone", "detach",
    "nonzero", "argwhere", "conj", "numel", "arccos", "arcsin", "arctan", "bernoulli",
    "multinomial", "normal"]
__all__ = [n for n in __all__ if n != "resize_out"]

arcsin = asin  # noqa: F405
arccos = acos  # noqa: F405
arctan = atan  # noqa: F405


def clone(input, *, memory_format=None):
    """A copy of ``input`` that stays in the graph."""
    return input.clone()


def detach(input):
    """``input.detach()``."""
    return input.detach()


def nonzero(input, *, as_tuple: bool = False):
    """Indices of the nonzero elements of ``input``."""
    return input.nonzero(as_tuple=as_tuple)


def argwhere(input):
    """``nonzero(input)`` as an (n, ndim) tensor."""
    return input.nonzero()


def conj(input):
    """The complex conjugate of ``input``."""
    return input.conj()


def numel(input) -> int:
    """The number of elements of ``input``."""
    return input.numel()


__all__ = __all__ + list(_sp)

# -- the rest of the op surface: scans, order statistics, special functions, sparse ----------
from ._creation import binomial, empty_strided, poisson, tril_indices, triu_indices  # noqa: E402
from .ops.elementwise import arccosh, arcsinh, arctanh  # noqa: E402
from .ops.scan import *  # noqa: E402,F403
from .ops.scan import __all__ as _scan  # noqa: E402
from .ops.sort import *  # noqa: E402,F403
from .ops.sort import __all__ as _sort  # noqa: E402
from .ops.special import digamma, erfinv, i0, lgamma, mvlgamma, polygamma, xlogy  # noqa: E402


def sparse_coo_tensor(indices, values, size=None, **kwargs):
    """A COO sparse tensor (see ``ember.sparse``)."""
    from .sparse import sparse_coo_tensor as f

    return f(indices, values, size, **kwargs)


def spmm(input, mat2):
    """Sparse @ dense (``ember.sparse.mm``)."""
    from .sparse import mm

    return mm(input, mat2)


__all__ = __all__ + list(_scan) + list(_sort) + [
    "empty_strided", "poisson", "binomial", "tril_indices", "triu_indices", "arccosh", "arcsinh",
    "arctanh", "digamma", "erfinv", "i0", "lgamma", "mvlgamma", "polygamma", "xlogy",
    "sparse_coo_tensor", "spmm"]

# -- number ops, window functions, in-place function spellings and predicates ---------------
from ._function_aliases import *  # noqa: E402,F403
from ._function_aliases import __all__ as _aliases  # noqa: E402
from ._windows import *  # noqa: E402,F403
from ._windows import __all__ as _windows  # noqa: E402
from .ops.number import *  # noqa: E402,F403
from .ops.number import __all__ as _number  # noqa: E402
from .ops.special import igamma, igammac  # noqa: E402

__all__ = __all__ + list(_aliases) + list(_windows) + list(_number) + ["igamma", "igammac"]

# -- nn.functional ops under their torch.* spellings; scatter/copy variants of the views -----
from ._creation_extra import empty_permuted  # noqa: E402
from ._nn_ops import *  # noqa: E402,F403
from ._nn_ops import __all__ as _nn_ops  # noqa: E402
from .ops.index_reduce import index_reduce, nonzero_static  # noqa: E402
from .ops.inplace_views import as_strided_, resize_as_  # noqa: E402
from .ops.shape_copy import *  # noqa: E402,F403
from .ops.shape_copy import __all__ as _shape_copy  # noqa: E402
from .ops.view_scatter import *  # noqa: E402,F403
from .ops.view_scatter import __all__ as _view_scatter  # noqa: E402

__all__ = __all__ + list(_nn_ops) + list(_shape_copy) + list(_view_scatter) + [
    "empty_permuted", "index_reduce", "nonzero_static", "as_strided_", "resize_as_"]

# -- functional RNN cells, symbolic-size helpers, structured control flow --------------------
from ._control_flow import cond, while_loop  # noqa: E402
from ._rnn_cells import gru_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell  # noqa: E402
from ._symbolic import *  # noqa: E402,F403
from ._symbolic import __all__ as _symbolic  # noqa: E402

__all__ = __all__ + list(_symbolic) + [
    "cond", "while_loop", "gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"]
