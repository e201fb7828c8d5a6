"""Snapping constants to simple exact values, on noise-free and noisy data."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from lawfinder import Expression
from lawfinder.kernels.evaluate import program_loss
from lawfinder.printing import make_symbol
from lawfinder.priors.constants import exact_sympy, simple_constants, snap_constants
from lawfinder.search.island import SearchData
from lawfinder.search.result import HallOfFameEntry

PI = sympy.pi


def data_of(columns, y, weights=None) -> SearchData:
    XT = np.ascontiguousarray(np.vstack(columns), dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    weights = np.empty(0) if weights is None else np.asarray(weights, dtype=float)
    return SearchData(XT, y, weights, float(np.var(y)))


def entry_of(text, names, data, constants=None) -> HallOfFameEntry:
    """The program of ``text``, optionally with other constants, and its loss."""
    expression = Expression.from_string(text, names)
    # Writable copies: the kernels are compiled for writable arrays.
    opcodes = np.array(expression.opcodes, dtype=np.int64)
    arguments = np.array(expression.arguments, dtype=np.int64)
    if constants is None:
        constants = expression.constants
    constants = np.array(constants, dtype=np.float64)
    stack = np.empty((opcodes.size, 256))
    loss = program_loss(
        opcodes,
        arguments,
        opcodes.size,
        constants,
        data.XT,
        data.y,
        data.weights,
        stack,
    )
    return HallOfFameEntry(opcodes, arguments, constants, opcodes.size, float(loss))


def mean_square(residuals, weights=None) -> float:
    return float(np.average(residuals**2, weights=weights))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def test_candidates_are_sorted_by_cost_and_match_their_exact_values():
    values, exact, costs = simple_constants()

    assert np.all(np.diff(costs) >= 0)
    assert len(set(exact)) == len(exact)
    np.testing.assert_allclose(values, [float(e) for e in exact], rtol=1e-15)
    for wanted in (sympy.Rational(7, 12), PI / 2, 1 / PI, PI**2, 1 / sympy.sqrt(3)):
        assert wanted in exact
    assert 1 / sympy.sqrt(2 * PI) in exact


def test_a_rounded_integer_snaps_and_the_fit_becomes_exact(rng):
    x = rng.uniform(1, 3, 200)
    data = data_of([x], 2 * x)
    entry = entry_of("2.00000001 * x", ["x"], data)

    result = snap_constants(entry, data)

    assert result.exact == (2,)
    assert result.constants.tolist() == [2.0]
    assert result.constant_errors.tolist() == [0.0]
    assert result.loss == mean_square(result.constants[0] * x - 2 * x) == 0.0
    assert entry.loss > 1e-18


def test_one_over_two_pi_snaps_and_prints_exactly(rng):
    h, w = rng.uniform(1, 5, 200), rng.uniform(0.5, 2, 200)
    data = data_of([h, w], h * w / (2 * np.pi))
    entry = entry_of("0.15915494 * h * w", ["h", "w"], data)

    result = snap_constants(entry, data)

    assert result.exact == (1 / (2 * PI),)
    assert result.constants[0] == 1 / (2 * np.pi)
    independent = mean_square(result.constants[0] * h * w - data.y)
    assert result.loss == pytest.approx(independent, rel=1e-9, abs=1e-30)
    assert result.loss < 1e-30 < entry.loss
    H, W = make_symbol("h"), make_symbol("w")
    assert exact_sympy(entry, result, ["h", "w"]) == H * W / (2 * PI)


def test_the_normal_density_gets_its_exact_normalisation(rng):
    x = rng.uniform(-3, 3, 200)
    data = data_of([x], np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi))
    entry = entry_of("0.39894228 * exp(-square(x) / 2)", ["x"], data)

    result = snap_constants(entry, data)

    assert result.exact == (1 / sympy.sqrt(2 * PI), 2)
    X = make_symbol("x")
    expected = sympy.exp(-(X**2) / 2) / sympy.sqrt(2 * PI)
    assert sympy.simplify(exact_sympy(entry, result.exact, ["x"]) - expected) == 0


def test_a_simple_value_that_fits_worse_is_refused_on_noise_free_data(rng):
    x = rng.uniform(1, 3, 200)
    data = data_of([x], 0.6 * x)
    entry = entry_of("0.6 * x", ["x"], data)

    # A range this wide holds 1/2 and 2/3, which are simpler and tried first.
    wide = snap_constants(entry, data, rtol=0.25)
    default = snap_constants(entry, data)

    assert wide.exact == (sympy.Rational(3, 5),)
    assert wide.constants.tolist() == default.constants.tolist() == [0.6]
    assert wide.loss == default.loss == entry.loss == 0.0


def test_noise_free_data_tell_a_constant_from_a_simple_value_a_hair_away(rng):
    x = rng.uniform(1, 3, 200)
    data = data_of([x], 0.50000005 * x)
    entry = entry_of("0.50000005 * x", ["x"], data)

    # 1/2 is within the default range of 1e-6 relative, but fits worse.
    result = snap_constants(entry, data)

    assert result.exact == (None,)
    assert result.constants.tolist() == [0.50000005]


def test_a_constant_with_no_simple_value_near_it_is_kept(rng):
    x = rng.uniform(1, 3, 200)
    golden = (np.sqrt(5) - 1) / 2
    data = data_of([x], golden * x + 0.5)
    entry = entry_of("0.6180339887498949 * x + 0.5", ["x"], data)

    result = snap_constants(entry, data, rtol=0.05)

    assert result.exact == (None, sympy.Rational(1, 2))
    assert result.constants[0] == entry.constants[0]
    assert result.n_snapped == 1
    X = make_symbol("x")
    assert exact_sympy(entry, result, ["x"]) == sympy.Float(golden) * X + sympy.S.Half


def test_a_noisy_constant_within_its_error_snaps(rng):
    x = rng.uniform(0, 1, 50)
    y = 0.5 * x + rng.normal(0, 0.01, x.size)
    data = data_of([x], y)
    entry = entry_of("0.503 * x", ["x"], data)

    result = snap_constants(entry, data)

    assert result.exact == (sympy.S.Half,)
    assert result.constants.tolist() == [0.5]
    assert result.loss == pytest.approx(mean_square(0.5 * x - y), rel=1e-12)


def test_a_noisy_constant_far_from_simple_values_is_kept(rng):
    x = rng.uniform(0, 1, 400)
    y = 0.618034 * x + rng.normal(0, 0.01, x.size)
    data = data_of([x], y)
    fitted = float(x @ y / (x @ x))
    entry = entry_of("0.618034 * x", ["x"], data, constants=[fitted])

    # The nearest simple value, 5/8, lies 8 standard errors away; 3/5 further.
    result = snap_constants(entry, data, rtol=0.1)

    assert result.exact == (None,)
    assert result.constants.tolist() == [fitted]
    assert result.loss == entry.loss


def test_weights_enter_the_loss_and_the_test(rng):
    x = rng.uniform(0, 1, 100)
    weights = rng.uniform(0.5, 2.0, x.size)
    y = 0.25 * x + rng.normal(0, 0.01, x.size) / np.sqrt(weights)
    data = data_of([x], y, weights)
    entry = entry_of("0.2512 * x", ["x"], data)

    result = snap_constants(entry, data)

    assert result.exact == (sympy.Rational(1, 4),)
    assert result.loss == pytest.approx(mean_square(0.25 * x - y, weights), rel=1e-12)


def test_negative_constants_snap_to_negative_values(rng):
    x = rng.uniform(1, 3, 100)
    data = data_of([x], -0.25 * x)
    entry = entry_of("0.25 * x", ["x"], data, constants=[-0.2500000001])

    result = snap_constants(entry, data)

    assert result.exact == (sympy.Rational(-1, 4),)
    assert result.constants.tolist() == [-0.25]


def test_a_tiny_constant_beside_larger_ones_snaps_to_zero(rng):
    x = rng.uniform(1, 3, 100)
    data = data_of([x], 2 * x)
    entry = entry_of("2 * x + 1e-13", ["x"], data)

    result = snap_constants(entry, data)

    assert result.exact == (2, 0)
    assert result.constants.tolist() == [2.0, 0.0]
    assert result.constant_errors.tolist() == [0.0, 0.0]


def test_known_errors_of_unsnapped_constants_are_kept(rng):
    x = rng.uniform(1, 3, 100)
    golden = (np.sqrt(5) - 1) / 2
    data = data_of([x], 3 * x + golden)
    entry = entry_of("3 * x + 0.6180339887498949", ["x"], data)
    entry.constant_errors = np.array([1e-9, 1e-9])

    result = snap_constants(entry, data)

    assert result.exact == (3, None)
    assert result.constant_errors.tolist() == [0.0, 1e-9]


def test_a_program_without_constants_is_returned_unchanged(rng):
    x = rng.uniform(1, 3, 50)
    data = data_of([x], x * x + 0.1)
    entry = entry_of("x * x", ["x"], data)

    result = snap_constants(entry, data)

    assert result.exact == ()
    assert result.constants.shape == (0,)
    assert result.loss == pytest.approx(0.01, rel=1e-12)


def test_exact_sympy_needs_one_value_per_constant(rng):
    x = rng.uniform(1, 3, 10)
    data = data_of([x], x)
    entry = entry_of("2 * x", ["x"], data)

    with pytest.raises(ValueError, match="1 constants"):
        exact_sympy(entry, [], ["x"])


def test_an_invalid_significance_is_refused(rng):
    x = rng.uniform(1, 3, 10)
    data = data_of([x], x)
    entry = entry_of("2 * x", ["x"], data)

    with pytest.raises(ValueError, match="significance"):
        snap_constants(entry, data, significance=1.5)
