"""Times the elementwise and reduction ops of the op surface at 1M float32 elements against
the equivalent numpy (or scipy) call, in the same process, and prints the ratio.

    python tests/core/bench_ops_surface.py [--only NAME ...] [--slow 2.0]

Not a test (pytest doesn't collect it): a measurement to run by hand. Each op runs under
``ember.no_grad()`` on tensors that don't require grad; the time is the best of several
timeit loops, ember's and numpy's alternating.
"""

from __future__ import annotations

import argparse
import timeit

import ember
import numpy as np
import scipy.special as sp

N = 1_000_000


def _data():
    rng = np.random.default_rng(0)
    a = rng.uniform(-2, 2, N).astype(np.float32)
    b = rng.uniform(-2, 2, N).astype(np.float32)
    p = rng.uniform(0.05, 0.95, N).astype(np.float32)
    pos = (np.abs(a) + 0.5).astype(np.float32)
    ia = rng.integers(0, 1 << 20, N).astype(np.int32)
    sh = rng.integers(0, 8, N).astype(np.int32)
    m2 = a.reshape(1000, 1000)
    return a, b, p, pos, ia, sh, m2


def cases():
    a, b, p, pos, ia, sh, m2 = _data()
    T = ember.from_numpy
    ta, tb, tp, tpos, tia, tsh, tm2 = (T(x) for x in (a, b, p, pos, ia, sh, m2))
    seq = np.sort(np.random.default_rng(1).uniform(-2, 2, 1000).astype(np.float32))
    tseq = T(seq)
    small = (np.random.default_rng(2).integers(0, 1000, N)).astype(np.int64)
    tsmall = T(small)
    idx = np.random.default_rng(3).integers(0, 1000, N).astype(np.int64)
    tidx = T(idx)
    dst = np.zeros(1000, np.float32)
    r2 = (m2 * 4).round()
    tr2 = T(r2)
    tdst = T(dst)
    e = ember
    c = {
        # elementwise, unary
        "exp2": (lambda: e.exp2(ta), lambda: np.exp2(a)),
        "expm1": (lambda: e.expm1(ta), lambda: np.expm1(a)),
        "log2": (lambda: e.log2(tpos), lambda: np.log2(pos)),
        "log10": (lambda: e.log10(tpos), lambda: np.log10(pos)),
        "log1p": (lambda: e.log1p(tpos), lambda: np.log1p(pos)),
        "sin": (lambda: e.sin(ta), lambda: np.sin(a)),
        "tan": (lambda: e.tan(ta), lambda: np.tan(a)),
        "asin": (lambda: e.asin(tp), lambda: np.arcsin(p)),
        "sinh": (lambda: e.sinh(ta), lambda: np.sinh(a)),
        "asinh": (lambda: e.asinh(ta), lambda: np.arcsinh(a)),
        "acosh": (lambda: e.acosh(tpos + 1), lambda: np.arccosh(pos + 1)),
        "atanh": (lambda: e.atanh(tp), lambda: np.arctanh(p)),
        "erf": (lambda: e.erf(ta), lambda: sp.erf(a)),
        "erfc": (lambda: e.erfc(ta), lambda: sp.erfc(a)),
        "erfinv": (lambda: e.erfinv(tp), lambda: sp.erfinv(p)),
        "floor": (lambda: e.floor(ta), lambda: np.floor(a)),
        "ceil": (lambda: e.ceil(ta), lambda: np.ceil(a)),
        "round": (lambda: e.round(ta), lambda: np.round(a)),
        "round_decimals": (lambda: e.round(ta, decimals=2), lambda: np.round(a, 2)),
        "trunc": (lambda: e.trunc(ta), lambda: np.trunc(a)),
        "frac": (lambda: e.frac(ta), lambda: a - np.trunc(a)),
        "reciprocal": (lambda: e.reciprocal(tpos), lambda: np.reciprocal(pos)),
        "square": (lambda: e.square(ta), lambda: np.square(a)),
        "sign": (lambda: e.sign(ta), lambda: np.sign(a)),
        "deg2rad": (lambda: e.deg2rad(ta), lambda: np.deg2rad(a)),
        "rad2deg": (lambda: e.rad2deg(ta), lambda: np.rad2deg(a)),
        "sinc": (lambda: e.sinc(ta), lambda: np.sinc(a)),
        "logit": (lambda: e.logit(tp), lambda: sp.logit(p)),
        "logit_eps": (lambda: e.logit(tp, eps=0.1), lambda: sp.logit(np.clip(p, 0.1, 0.9))),
        "sigmoid": (lambda: e.sigmoid(ta), lambda: sp.expit(a)),
        "nan_to_num": (lambda: e.nan_to_num(ta), lambda: np.nan_to_num(a)),
        "lgamma": (lambda: e.lgamma(tpos), lambda: sp.gammaln(pos)),
        "digamma": (lambda: e.digamma(tpos), lambda: sp.psi(pos)),
        "polygamma1": (lambda: e.polygamma(1, tpos), lambda: sp.polygamma(1, pos)),
        "mvlgamma": (lambda: e.mvlgamma(tpos + 2, 3), lambda: sp.multigammaln(pos + 2, 3)),
        "i0": (lambda: e.i0(ta), lambda: sp.i0(a)),
        "special.i0e": (lambda: e.special.i0e(ta), lambda: sp.i0e(a)),
        "special.i1": (lambda: e.special.i1(ta), lambda: sp.i1(a)),
        "special.i1e": (lambda: e.special.i1e(ta), lambda: sp.i1e(a)),
        "special.ndtr": (lambda: e.special.ndtr(ta), lambda: sp.ndtr(a)),
        "special.ndtri": (lambda: e.special.ndtri(tp), lambda: sp.ndtri(p)),
        "special.log_ndtr": (lambda: e.special.log_ndtr(ta), lambda: sp.log_ndtr(a)),
        "special.erfcx": (lambda: e.special.erfcx(ta), lambda: sp.erfcx(a)),
        "special.entr": (lambda: e.special.entr(tpos), lambda: sp.entr(pos)),
        "special.bessel_j0": (lambda: e.special.bessel_j0(ta), lambda: sp.j0(a)),
        "special.bessel_j1": (lambda: e.special.bessel_j1(ta), lambda: sp.j1(a)),
        "isnan": (lambda: e.isnan(ta), lambda: np.isnan(a)),
        "isinf": (lambda: e.isinf(ta), lambda: np.isinf(a)),
        "isfinite": (lambda: e.isfinite(ta), lambda: np.isfinite(a)),
        "isposinf": (lambda: e.isposinf(ta), lambda: np.isposinf(a)),
        "isneginf": (lambda: e.isneginf(ta), lambda: np.isneginf(a)),
        "isreal": (lambda: e.isreal(ta), lambda: np.isreal(a)),
        "signbit": (lambda: e.signbit(ta), lambda: np.signbit(a)),
        "bitwise_not": (lambda: ~tia, lambda: ~ia),
        # elementwise, binary and ternary
        "atan2": (lambda: e.atan2(ta, tb), lambda: np.arctan2(a, b)),
        "hypot": (lambda: e.hypot(ta, tb), lambda: np.hypot(a, b)),
        "fmax": (lambda: e.fmax(ta, tb), lambda: np.fmax(a, b)),
        "fmin": (lambda: e.fmin(ta, tb), lambda: np.fmin(a, b)),
        "copysign": (lambda: e.copysign(ta, tb), lambda: np.copysign(a, b)),
        "logaddexp": (lambda: e.logaddexp(ta, tb), lambda: np.logaddexp(a, b)),
        "logaddexp2": (lambda: e.logaddexp2(ta, tb), lambda: np.logaddexp2(a, b)),
        "heaviside": (lambda: e.heaviside(ta, tb), lambda: np.heaviside(a, b)),
        "float_power": (lambda: e.float_power(ta, tb), lambda: np.float_power(a, b)),
        "xlogy": (lambda: e.xlogy(ta, tpos), lambda: sp.xlogy(a, pos)),
        "special.xlog1py": (lambda: e.special.xlog1py(ta, tpos), lambda: sp.xlog1py(a, pos)),
        "special.zeta": (lambda: e.special.zeta(tpos + 1, tpos), lambda: sp.zeta(pos + 1, pos)),
        "special.gammainc": (lambda: e.special.gammainc(tpos, tpos),
                             lambda: sp.gammainc(pos, pos)),
        "remainder": (lambda: e.remainder(ta, tpos), lambda: np.remainder(a, pos)),
        "fmod": (lambda: e.fmod(ta, tpos), lambda: np.fmod(a, pos)),
        "floor_divide": (lambda: e.floor_divide(ta, tpos), lambda: np.floor_divide(a, pos)),
        "true_divide": (lambda: e.true_divide(ta, tpos), lambda: np.true_divide(a, pos)),
        "clip": (lambda: e.clip(ta, -0.5, 0.5), lambda: np.clip(a, -0.5, 0.5)),
        "clamp_tensor": (lambda: e.clamp(ta, tb, tb + 1), lambda: np.clip(a, b, b + 1)),
        "lerp": (lambda: e.lerp(ta, tb, 0.3), lambda: a + np.float32(0.3) * (b - a)),
        "lerp_tensor": (lambda: e.lerp(ta, tb, tp), lambda: a + p * (b - a)),
        "addcmul": (lambda: e.addcmul(ta, ta, tb, value=0.5),
                    lambda: a + np.float32(0.5) * a * b),
        "addcdiv": (lambda: e.addcdiv(ta, ta, tpos, value=0.5),
                    lambda: a + np.float32(0.5) * (a / pos)),
        "isclose": (lambda: e.isclose(ta, tb), lambda: np.isclose(a, b)),
        "allclose": (lambda: e.allclose(ta, ta), lambda: np.allclose(a, a)),
        "equal": (lambda: e.equal(ta, ta), lambda: np.array_equal(a, a)),
        "lshift": (lambda: tia << tsh, lambda: np.left_shift(ia, sh)),
        "rshift": (lambda: tia >> tsh, lambda: np.right_shift(ia, sh)),
        "lshift_scalar": (lambda: tia << 3, lambda: ia << 3),
        "bitwise_xor": (lambda: tia ^ tsh, lambda: ia ^ sh),
        # reductions and scans
        "nansum": (lambda: e.nansum(ta), lambda: np.nansum(a)),
        "nanmean": (lambda: e.nanmean(ta), lambda: np.nanmean(a)),
        "norm": (lambda: e.norm(ta), lambda: np.linalg.norm(a)),
        "norm_1": (lambda: e.norm(ta, 1), lambda: np.linalg.norm(a, 1)),
        "norm_inf": (lambda: e.norm(ta, float("inf")), lambda: np.linalg.norm(a, np.inf)),
        "norm_3_dim": (lambda: e.norm(tm2, 3, dim=1),
                       lambda: np.linalg.norm(m2, 3, axis=1)),
        "all": (lambda: e.all(ta > -3), lambda: np.all(a > -3)),
        "any": (lambda: e.any(ta > 3), lambda: np.any(a > 3)),
        "count_nonzero": (lambda: e.count_nonzero(ta), lambda: np.count_nonzero(a)),
        "count_nonzero_dim": (lambda: e.count_nonzero(tm2, 1),
                              lambda: np.count_nonzero(m2, axis=1)),
        "aminmax": (lambda: e.aminmax(ta), lambda: (np.min(a), np.max(a))),
        "std_mean": (lambda: e.std_mean(ta), lambda: (np.std(a, ddof=1), np.mean(a))),
        "var_mean_dim": (lambda: e.var_mean(tm2, 1), lambda: (np.var(m2, 1, ddof=1),
                                                              np.mean(m2, 1))),
        "logsumexp_dim": (lambda: e.logsumexp(tm2, 1), lambda: sp.logsumexp(m2, 1)),
        "cumsum": (lambda: e.cumsum(ta, 0), lambda: np.cumsum(a)),
        "cumprod": (lambda: e.cumprod(tp, 0), lambda: np.cumprod(p)),
        "cummax": (lambda: e.cummax(ta, 0), lambda: np.maximum.accumulate(a)),
        "cummin_dim": (lambda: e.cummin(tm2, 1), lambda: np.minimum.accumulate(m2, 1)),
        "logcumsumexp": (lambda: e.logcumsumexp(ta, 0), lambda: np.logaddexp.accumulate(a)),
        "diff": (lambda: e.diff(ta), lambda: np.diff(a)),
        "trapezoid": (lambda: e.trapezoid(ta), lambda: np.trapezoid(a)),
        "cumulative_trapezoid": (lambda: e.cumulative_trapezoid(ta),
                                 lambda: np.cumsum((a[1:] + a[:-1]) * np.float32(0.5))),
        "median": (lambda: e.median(ta), lambda: np.median(a)),
        "median_dim": (lambda: e.median(tm2, 1), lambda: np.median(m2, 1)),
        "nanmedian": (lambda: e.nanmedian(ta), lambda: np.nanmedian(a)),
        "quantile": (lambda: e.quantile(ta, 0.3), lambda: np.quantile(a, 0.3)),
        "quantile_dim": (lambda: e.quantile(tm2, e.tensor([0.1, 0.5, 0.9]), dim=1),
                         lambda: np.quantile(m2, [0.1, 0.5, 0.9], axis=1)),
        "nanquantile": (lambda: e.nanquantile(ta, 0.3), lambda: np.nanquantile(a, 0.3)),
        "kthvalue": (lambda: e.kthvalue(ta, 1000), lambda: np.partition(a, 999)[999]),
        "mode_dim": (lambda: e.mode(tr2, 1), lambda: _scipy_mode(r2)),
        "sort": (lambda: e.sort(ta), lambda: np.sort(a)),
        "sort_vs_argsort": (lambda: e.sort(ta), lambda: np.take_along_axis(
            a, np.argsort(a), 0)),
        "sort_stable": (lambda: e.sort(ta, stable=True), lambda: np.sort(a, kind="stable")),
        "argsort": (lambda: e.argsort(ta), lambda: np.argsort(a)),
        "msort": (lambda: e.msort(tm2), lambda: np.sort(m2, 0)),
        "topk": (lambda: e.topk(ta, 10), lambda: np.partition(a, N - 10)[N - 10:]),
        "topk_dim": (lambda: e.topk(tm2, 5, 1), lambda: np.partition(m2, 995, 1)[:, 995:]),
        "unique": (lambda: e.unique(tsmall), lambda: np.unique(small)),
        "unique_inverse_counts": (lambda: e.unique(tsmall, return_inverse=True,
                                                   return_counts=True),
                                  lambda: np.unique(small, return_inverse=True,
                                                    return_counts=True)),
        "unique_consecutive": (lambda: e.unique_consecutive(tsmall),
                               lambda: small[np.concatenate([[True], small[1:] != small[:-1]])]),
        "histc": (lambda: e.histc(ta, 100, -2, 2),
                  lambda: np.histogram(a, 100, (-2, 2))),
        "histogram": (lambda: e.histogram(ta, 100), lambda: np.histogram(a, 100)),
        "bincount": (lambda: e.bincount(tsmall), lambda: np.bincount(small)),
        "bincount_weights": (lambda: e.bincount(tsmall, ta), lambda: np.bincount(small, a)),
        "searchsorted": (lambda: e.searchsorted(tseq, ta), lambda: np.searchsorted(seq, a)),
        "bucketize": (lambda: e.bucketize(ta, tseq, right=True),
                      lambda: np.searchsorted(seq, a, side="right")),
        "scatter_add": (lambda: tdst.scatter_add(0, tidx, ta),
                        lambda: np.add.at(dst.copy(), idx, a)),
        "scatter_reduce_amax": (lambda: tdst.scatter_reduce(0, tidx, ta, "amax"),
                                lambda: np.maximum.at(dst.copy(), idx, a)),
        "index_add": (lambda: tdst.index_add(0, tidx, ta), lambda: np.add.at(dst.copy(), idx, a)),
        "trace": (lambda: e.trace(tm2), lambda: np.trace(m2)),
        "cdist": (lambda: e.cdist(tm2[:, :3].contiguous(), tm2[:, 3:6].contiguous()),
                  lambda: _scipy_cdist(m2[:, :3], m2[:, 3:6])),
    }
    return c


def _scipy_mode(x):
    from scipy.stats import mode

    return mode(x, axis=1)


def _scipy_cdist(a, b):
    from scipy.spatial.distance import cdist

    return cdist(a, b)


def _best_pair(ef, nf, number: int = 3, rounds: int = 7):
    """The best time per call of ``ef`` and of ``nf``, measured in alternation (so that a
    busy machine slows both alike)."""
    te = tn = float("inf")
    for _ in range(rounds):
        te = min(te, timeit.timeit(ef, number=number) / number)
        tn = min(tn, timeit.timeit(nf, number=number) / number)
    return te, tn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--slow", type=float, default=2.0)
    args = ap.parse_args()
    slow = []
    with ember.no_grad():
        for name, (ef, nf) in cases().items():
            if args.only and name not in args.only:
                continue
            ef(), nf()  # warm up (lazy imports)
            te, tn = _best_pair(ef, nf)
            r = te / tn
            print(f"{name:24s} ember {te * 1e3:8.2f} ms  numpy {tn * 1e3:8.2f} ms  x{r:5.2f}")
            if r > args.slow:
                slow.append((name, r))
    print(f"\nslower than {args.slow}x numpy:", ", ".join(f"{n} ({r:.1f}x)" for n, r in slow)
          or "none")


if __name__ == "__main__":
    main()
