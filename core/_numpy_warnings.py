"""PyTorch computes ``1 / 0``, ``log(0)``, ``sqrt(-1)`` and overflowing casts silently (inf,
NaN); numpy, which ember's CPU ops run on, warns about each (``RuntimeWarning: divide by
zero encountered in divide``). At ``import ember`` one warnings filter silences exactly
those floating-point warnings when they arise inside ember's own modules: a user's own numpy
code keeps numpy's warnings, and no op pays for an ``np.errstate`` block (~2 us a call)."""

from __future__ import annotations

import warnings

# numpy's texts: "divide by zero encountered in ...", "invalid value encountered in ...",
# "overflow encountered in ...", "underflow encountered in ..."
_MESSAGE = r"(divide by zero|invalid value|overflow|underflow) encountered"
_MODULE = r"ember(\.|$)"


def silence_numpy_fp_warnings() -> None:
    """Installs the filter (once; appended, so filters the user sets later still win)."""
    for f in warnings.filters:
        if f[0] == "ignore" and getattr(f[1], "pattern", None) == _MESSAGE and \
                getattr(f[3], "pattern", None) == _MODULE:
            return
    warnings.filterwarnings("ignore", message=_MESSAGE, category=RuntimeWarning,
                            module=_MODULE, append=True)


silence_numpy_fp_warnings()
