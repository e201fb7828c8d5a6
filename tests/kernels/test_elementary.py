"""The vectorised exp, log, sin and cos against numpy, in units in the last place.

Values are drawn over the whole range each function handles itself; rows
holding one value outside it go to the C library, and must give numpy's nan,
inf and zero where numpy does.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawfinder._config import ROW_BLOCK
from lawfinder.kernels.elementary import (
    cos_row,
    exp_row,
    log_row,
    sin_row,
    sincos_row,
)

ROW_FUNCTIONS = {"exp": exp_row, "log": log_row, "sin": sin_row, "cos": cos_row}
REFERENCES = {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos}
MAX_ULPS = 2.0


@numba.njit
def _apply(name_code, values, work):
    """Apply one row function to every row of ``values`` in place."""
    for r in range(values.shape[0]):
        row = values[r]
        if name_code == 0:
            exp_row(row, row.shape[0], work)
        elif name_code == 1:
            log_row(row, row.shape[0], work)
        elif name_code == 2:
            sin_row(row, row.shape[0], work)
        else:
            cos_row(row, row.shape[0], work)


def apply(name, values):
    out = np.array(values, dtype=np.float64, copy=True, ndmin=2)
    _apply(list(ROW_FUNCTIONS).index(name), out, np.empty(out.shape[1]))
    return out


def ulps(got, expected):
    """|got - expected| in units in the last place of ``expected``."""
    return np.abs(got - expected) / np.spacing(np.abs(expected))


def draws(name, rng, size):
    if name == "exp":
        return rng.uniform(-708.0, 709.0, size)
    if name == "log":
        return 10.0 ** rng.uniform(-307.0, 308.0, size)
    return rng.uniform(-1e5, 1e5, size)


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
def test_row_functions_are_within_two_ulps_of_numpy(name):
    rng = np.random.default_rng(0)
    x = draws(name, rng, (200, ROW_BLOCK))
    assert ulps(apply(name, x), REFERENCES[name](x)).max() <= MAX_ULPS


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
def test_row_functions_near_the_points_that_reduction_gets_wrong_most_easily(name):
    # Around 0 and 1, around multiples of ln 2 and pi / 2, and the range ends.
    rng = np.random.default_rng(1)
    centres = {
        "exp": np.concatenate([np.arange(-20, 21) * np.log(2), [-708.0, 709.0]]),
        "log": np.array([1.0, 0.5, 2.0, np.sqrt(2), np.sqrt(0.5), 1e-300, 1e300]),
        "sin": np.arange(-40, 41) * np.pi / 2,
        "cos": np.arange(-40, 41) * np.pi / 2,
    }[name]
    x = (centres[:, None] * (1.0 + rng.uniform(-1e-6, 1e-6, (1, 64)))).ravel()
    if name == "exp":
        x = np.clip(x, -708.0, 709.0)
    got, expected = apply(name, x)[0], REFERENCES[name](x)
    # sin and cos at their zeros: compare absolute error in ulps of 1.
    scale = np.maximum(np.abs(expected), 1.0 if name in ("sin", "cos") else 0.0)
    error = np.abs(got - expected) / np.spacing(np.maximum(scale, np.abs(expected)))
    assert error.max() <= MAX_ULPS


SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 5e-324, 1e-310, 800.0, -800.0, 2e5]


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
@pytest.mark.parametrize("special", SPECIAL)
def test_a_row_with_a_value_outside_the_range_matches_numpy(name, special):
    x = np.linspace(0.5, 3.0, 40)
    x[17] = special
    with np.errstate(all="ignore"):
        expected = REFERENCES[name](x)
    got = apply(name, x)[0]
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(got), finite)
    np.testing.assert_array_equal(got[~finite], expected[~finite])
    assert ulps(got[finite], expected[finite]).max() <= MAX_ULPS


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(min_value=-50.0, max_value=50.0, allow_nan=False),
        min_size=1,
        max_size=ROW_BLOCK,
    )
)
def test_sincos_gives_both_functions_of_the_same_values(values):
    x = np.array(values)
    sines, cosines = np.empty(ROW_BLOCK), np.empty(ROW_BLOCK)
    sincos_row(x, x.shape[0], sines, cosines)
    n = x.shape[0]
    assert np.all(np.abs(sines[:n] - np.sin(x)) <= MAX_ULPS * np.spacing(1.0))
    assert np.all(np.abs(cosines[:n] - np.cos(x)) <= MAX_ULPS * np.spacing(1.0))
    np.testing.assert_array_equal(x, np.array(values))


@pytest.mark.parametrize("name", list(ROW_FUNCTIONS))
def test_only_the_first_n_values_change(name):
    x = np.full(ROW_BLOCK, 1.25)
    row_function = ROW_FUNCTIONS[name]
    row_function(x, 10, np.empty(ROW_BLOCK))
    np.testing.assert_allclose(x[:10], REFERENCES[name](1.25), rtol=1e-15)
    np.testing.assert_array_equal(x[10:], 1.25)
