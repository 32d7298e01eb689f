"""Named tuples returned by ops with several outputs, as ``torch.return_types``."""

from __future__ import annotations

from collections import namedtuple

__all__ = ["max", "min", "sort", "topk", "kthvalue", "median", "mode", "var_mean",
           "std_mean", "aminmax", "cummax", "cummin", "slogdet", "qr", "svd", "eigh",
           "lu_factor", "lstsq", "unique", "nanmedian", "frexp"]


def _rt(name: str, fields: str):
    base = namedtuple(name, fields)
    n_fields = len(base._fields)

    def __new__(cls, *args, **kwargs):
        # torch.return_types are struct sequences: built from one sequence of the fields
        if len(args) == 1 and not kwargs and n_fields > 1:
            args = tuple(args[0])
        return base.__new__(cls, *args, **kwargs)

    cls = type(name, (base,), {"__slots__": (), "__new__": __new__})
    cls.__module__ = __name__
    cls.__qualname__ = name
    cls.__doc__ = f"``torch.return_types.{name}``: a named tuple ({fields.replace(' ', ', ')})."
    return cls


max = _rt("max", "values indices")  # noqa: A001
min = _rt("min", "values indices")  # noqa: A001
sort = _rt("sort", "values indices")
topk = _rt("topk", "values indices")
kthvalue = _rt("kthvalue", "values indices")
median = _rt("median", "values indices")
nanmedian = _rt("nanmedian", "values indices")
mode = _rt("mode", "values indices")
cummax = _rt("cummax", "values indices")
cummin = _rt("cummin", "values indices")
aminmax = _rt("aminmax", "min max")
var_mean = _rt("var_mean", "var mean")
std_mean = _rt("std_mean", "std mean")
slogdet = _rt("slogdet", "sign logabsdet")
qr = _rt("qr", "Q R")
svd = _rt("svd", "U S Vh")
eigh = _rt("eigh", "eigenvalues eigenvectors")
lu_factor = _rt("lu_factor", "LU pivots")
lstsq = _rt("lstsq", "solution residuals rank singular_values")
unique = _rt("unique", "values inverse counts")
frexp = _rt("frexp", "mantissa exponent")
