"""exp, log, sin and cos over a row block, in loops the compiler vectorises.

The C library's functions are called one value at a time and cost 5 to 15 ns
each, forty times an addition; these take 1 to 3 ns and stay within about
one unit in the last place of the C library on their ranges. A row holding
any value outside the range (non-finite, huge, subnormal, not positive for
log) is left wholly to the C library, so nan, inf and zero come out where
numpy gives them.

Each function works in place on ``x[:n]`` and uses ``work[:n]`` (float64,
contiguous) as scratch for reinterpreting bits.
"""

from __future__ import annotations

import numpy as np

from .._config import inlined_kernel, kernel

LOG2E = 1.4426950408889634
# ln 2 and pi / 2 split so that k * (leading part) is exact for the k that occur.
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
PIO2_1 = 1.57079632673412561417e00
PIO2_2 = 6.07710050630396597660e-11
PIO2_3 = 2.02226624871116645580e-21
TWO_OVER_PI = 6.36619772367581382433e-01
SQRT2 = 1.4142135623730951

EXP_LOW = -708.0  # below, results approach the subnormal range
EXP_HIGH = 709.0  # above, they approach overflow
SMALLEST_NORMAL = 2.2250738585072014e-308
LARGEST = 1.7976931348623157e308
TRIG_LIMIT = 1.0e5  # keeps k * PIO2_1 exact (k < 2**17) in the reduction

MANTISSA_MASK = np.int64(0x000FFFFFFFFFFFFF)
ONE_EXPONENT = np.int64(0x3FF0000000000000)


@inlined_kernel
def _exp_polynomial(r):
    """e^r for |r| <= ln(2) / 2: Taylor series to r^13 (error below 5e-18)."""
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    return p * r + 1.0


@kernel
def exp_row(x, n, work):
    """x[:n] = exp(x[:n]): e^x = 2^k e^r with k = round(x / ln 2)."""
    inside = True
    for i in range(n):
        inside &= (x[i] >= EXP_LOW) & (x[i] <= EXP_HIGH)
    if not inside:
        for i in range(n):
            x[i] = np.exp(x[i])
        return
    bits = work.view(np.int64)
    for i in range(n):
        v = x[i]
        k = np.floor(v * LOG2E + 0.5)
        r = (v - k * LN2_HI) - k * LN2_LO
        x[i] = _exp_polynomial(r)
        bits[i] = (np.int64(k) + 1023) << 52
    for i in range(n):
        x[i] *= work[i]


@kernel
def log_row(x, n, work):
    """x[:n] = log(x[:n]): log(2^e m) = e ln 2 + 2 atanh((m - 1) / (m + 1))."""
    inside = True
    for i in range(n):
        inside &= (x[i] >= SMALLEST_NORMAL) & (x[i] <= LARGEST)
    if not inside:
        for i in range(n):
            x[i] = np.log(x[i])
        return
    x_bits = x.view(np.int64)
    work_bits = work.view(np.int64)
    for i in range(n):
        b = x_bits[i]
        work_bits[i] = (b & MANTISSA_MASK) | ONE_EXPONENT
        x[i] = np.float64((b >> 52) - 1023)
    for i in range(n):
        m = work[i]
        e = x[i]
        # Keep m in [sqrt(2)/2, sqrt(2)) so that |s| <= 0.1716 below.
        high = m > SQRT2
        m = m * 0.5 if high else m
        e = e + 1.0 if high else e
        f = m - 1.0
        s = f / (2.0 + f)
        z = s * s
        p = 1.0 / 21.0
        p = p * z + 1.0 / 19.0
        p = p * z + 1.0 / 17.0
        p = p * z + 1.0 / 15.0
        p = p * z + 1.0 / 13.0
        p = p * z + 1.0 / 11.0
        p = p * z + 1.0 / 9.0
        p = p * z + 1.0 / 7.0
        p = p * z + 1.0 / 5.0
        p = p * z + 1.0 / 3.0
        # log(m) = f - f s + s (f + 2 z p - ...) written to keep f exact.
        log_m = f - s * (f - 2.0 * z * p)
        x[i] = e * LN2_HI + (e * LN2_LO + log_m)


@inlined_kernel
def _sin_polynomial(r, z):
    """sin(r) for |r| <= pi / 4, z = r^2: Taylor series to r^17."""
    p = 1.0 / 355687428096000.0
    p = p * z - 1.0 / 1307674368000.0
    p = p * z + 1.0 / 6227020800.0
    p = p * z - 1.0 / 39916800.0
    p = p * z + 1.0 / 362880.0
    p = p * z - 1.0 / 5040.0
    p = p * z + 1.0 / 120.0
    p = p * z - 1.0 / 6.0
    return r + r * z * p


@inlined_kernel
def _cos_polynomial(z):
    """cos(r) for |r| <= pi / 4, z = r^2: Taylor series to r^18."""
    p = -1.0 / 6402373705728000.0
    p = p * z + 1.0 / 20922789888000.0
    p = p * z - 1.0 / 87178291200.0
    p = p * z + 1.0 / 479001600.0
    p = p * z - 1.0 / 3628800.0
    p = p * z + 1.0 / 40320.0
    p = p * z - 1.0 / 720.0
    p = p * z + 1.0 / 24.0
    return 1.0 - 0.5 * z + z * z * p


@kernel
def _sin_cos(v):
    """(sin v, cos v) for |v| <= TRIG_LIMIT.

    v = k pi / 2 + r with |r| <= pi / 4; the quadrant k mod 4 picks the
    polynomial and the sign.
    """
    k = np.floor(v * TWO_OVER_PI + 0.5)
    r = ((v - k * PIO2_1) - k * PIO2_2) - k * PIO2_3
    quadrant = np.int64(k) & 3
    z = r * r
    s = _sin_polynomial(r, z)
    c = _cos_polynomial(z)
    # Bit tests rather than ``or``, which would branch and stop vectorising.
    odd = (quadrant & 1) == 1
    sine = c if odd else s
    cosine = s if odd else c
    sine = -sine if quadrant >= 2 else sine
    cosine = -cosine if ((quadrant + 1) & 2) != 0 else cosine
    return sine, cosine


@kernel
def _trig_inside(x, n):
    inside = True
    for i in range(n):
        inside &= np.abs(x[i]) <= TRIG_LIMIT
    return inside


@kernel
def sincos_row(x, n, sines, cosines):
    """sines[:n] = sin(x[:n]), cosines[:n] = cos(x[:n]); neither may be ``x``
    (the compiler must know the rows do not overlap to vectorise)."""
    if not _trig_inside(x, n):
        for i in range(n):
            sines[i] = np.sin(x[i])
            cosines[i] = np.cos(x[i])
        return
    for i in range(n):
        sines[i], cosines[i] = _sin_cos(x[i])


@inlined_kernel
def sin_row(x, n, work):
    """x[:n] = sin(x[:n])."""
    if not _trig_inside(x, n):
        for i in range(n):
            x[i] = np.sin(x[i])
        return
    for i in range(n):
        work[i] = _sin_cos(x[i])[0]
    for i in range(n):
        x[i] = work[i]


@inlined_kernel
def cos_row(x, n, work):
    """x[:n] = cos(x[:n])."""
    if not _trig_inside(x, n):
        for i in range(n):
            x[i] = np.cos(x[i])
        return
    for i in range(n):
        work[i] = _sin_cos(x[i])[1]
    for i in range(n):
        x[i] = work[i]
