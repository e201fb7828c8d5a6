"""Evaluation of postfix programs and their losses, against plain numpy.

Random programs are evaluated on row counts below, at and above multiples of
``ROW_BLOCK``, so that partial blocks and the seams between blocks are
exercised; the losses are checked against numpy sums of the same residuals.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lawfinder._config import ROW_BLOCK
from lawfinder.kernels.evaluate import (
    evaluate_population,
    evaluate_program,
    population_losses,
    program_loss,
    stack_depth,
)
from lawfinder.operators import ARITY, CONSTANT, N_OPCODES, VARIABLE
from reference import assert_matches_reference, evaluate_reference, random_features
from strategies import program, programs

N_FEATURES = 3
NO_WEIGHTS = np.empty(0)
ROW_COUNTS = (
    1,
    ROW_BLOCK - 1,
    ROW_BLOCK,
    ROW_BLOCK + 1,
    2 * ROW_BLOCK,
    3 * ROW_BLOCK + 17,
)
PADDING = 7  # garbage nodes after ``length``, which no kernel may read


def padded(opcodes, arguments, extra=PADDING, seed=0):
    """Copies of a program followed by ``extra`` random nodes past its end."""
    rng = np.random.default_rng(seed)
    junk_opcodes = rng.integers(0, N_OPCODES, size=extra)
    junk_arguments = rng.integers(0, N_FEATURES, size=extra)
    return (
        np.concatenate([opcodes, junk_opcodes]).astype(np.int64),
        np.concatenate([arguments, junk_arguments]).astype(np.int64),
    )


def reference_stack_depth(opcodes) -> int:
    """Largest height of the stack while the program runs, walked in Python."""
    height = 0
    deepest = 0
    for opcode in opcodes:
        height += 1 - int(ARITY[opcode])
        deepest = max(deepest, height)
    return deepest


def reference_loss(values, y, weights) -> float:
    """Weighted mean squared error in numpy; inf when it is not finite."""
    w = weights if weights.size else np.ones_like(y)
    with np.errstate(all="ignore"):
        loss = np.sum(w * (values - y) ** 2) / np.sum(w)
    return float(loss) if np.isfinite(loss) else np.inf


def kernel_values(opcodes, arguments, constants, X):
    """Run ``evaluate_program`` on a padded copy of the program."""
    long_opcodes, long_arguments = padded(opcodes, arguments)
    out = np.full(X.shape[0], -1234.5)
    XT = np.ascontiguousarray(X.T)
    evaluate_program(long_opcodes, long_arguments, opcodes.size, constants, XT, out)
    return out


def kernel_loss(opcodes, arguments, constants, X, y, weights=NO_WEIGHTS):
    """Run ``program_loss`` on a padded copy, with a stack of the right depth."""
    long_opcodes, long_arguments = padded(opcodes, arguments)
    stack = np.full((stack_depth(opcodes, opcodes.size), ROW_BLOCK), np.nan)
    return program_loss(
        long_opcodes,
        long_arguments,
        opcodes.size,
        constants,
        np.ascontiguousarray(X.T),
        y,
        weights,
        stack,
    )


@st.composite
def evaluation_problems(draw, max_size=25, operators=None):
    """A program, data with a row count near the block edges, targets, weights."""
    opcodes, arguments, constants = draw(programs(N_FEATURES, max_size, operators))
    n_rows = draw(st.sampled_from(ROW_COUNTS))
    seed = draw(st.integers(0, 2**32 - 1))
    X = random_features(n_rows, N_FEATURES, seed)
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n_rows)
    weights = rng.uniform(0.0, 2.0, n_rows) if draw(st.booleans()) else NO_WEIGHTS
    return (opcodes, arguments, constants), (X, y, weights)


# ---------------------------------------------------------------------------
# stack_depth and evaluate_program
# ---------------------------------------------------------------------------


@settings(max_examples=50)
@given(programs(N_FEATURES, max_size=30))
def test_stack_depth_matches_a_python_walk(drawn):
    opcodes, _, _ = drawn
    long_opcodes, _ = padded(opcodes, np.zeros_like(opcodes))
    assert stack_depth(long_opcodes, opcodes.size) == reference_stack_depth(opcodes)
    for length in range(1, opcodes.size + 1):
        expected = reference_stack_depth(opcodes[:length])
        assert stack_depth(opcodes, length) == expected


def test_stack_depth_of_known_programs():
    assert stack_depth(program("x0")[0], 1) == 1
    assert stack_depth(program("x0", "sin", "exp")[0], 3) == 1
    left_leaning = program("x0", "x1", "add", "x2", "mul", 2.0, "sub")[0]
    assert stack_depth(left_leaning, left_leaning.size) == 2
    right_leaning = program("x0", "x1", "x2", 2.0, "sub", "mul", "add")[0]
    assert stack_depth(right_leaning, right_leaning.size) == 4


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(evaluation_problems())
def test_evaluate_program_matches_reference(problem):
    (opcodes, arguments, constants), (X, _, _) = problem
    values = kernel_values(opcodes, arguments, constants, X)
    assert_matches_reference(values, opcodes, arguments, constants, X)


@pytest.mark.parametrize("n_rows", ROW_COUNTS)
def test_evaluate_program_fills_every_row_of_every_block(n_rows):
    # x0 * c0 + x1 is exact in floating point for these integers, so every row
    # can be compared for equality, the ones after each block seam included.
    opcodes, arguments, constants = program("x0", 3.0, "mul", "x1", "add")
    X = np.column_stack([np.arange(n_rows), -2.0 * np.arange(n_rows), np.ones(n_rows)])
    values = kernel_values(opcodes, arguments, constants, X)
    np.testing.assert_array_equal(values, np.arange(n_rows, dtype=float))


def test_evaluate_program_propagates_non_finite_values():
    opcodes, arguments, constants = program("x0", "log", "x1", "inv", "add")
    X = np.array([[1.0, 1.0], [0.0, 2.0], [-1.0, 2.0], [1.0, 0.0], [np.e, -1.0]])
    values = kernel_values(opcodes, arguments, constants, X)
    assert values[0] == 1.0
    assert values[1] == -np.inf
    assert np.isnan(values[2])
    assert values[3] == np.inf
    np.testing.assert_allclose(values[4], 0.0, atol=1e-15)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(programs(N_FEATURES, max_size=15), min_size=1, max_size=6),
    st.sampled_from(ROW_COUNTS),
)
def test_evaluate_population_matches_evaluate_program(drawn, n_rows):
    population = pack_population(drawn)
    X = random_features(n_rows, N_FEATURES, seed=n_rows)
    XT = np.ascontiguousarray(X.T)
    out = np.full((len(drawn), n_rows), -1234.5)
    evaluate_population(*population, XT, out)

    for member, (opcodes, arguments, constants) in enumerate(drawn):
        expected = kernel_values(opcodes, arguments, constants, X)
        np.testing.assert_array_equal(out[member], expected)


# ---------------------------------------------------------------------------
# program_loss and population_losses
# ---------------------------------------------------------------------------


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(evaluation_problems())
def test_program_loss_is_the_weighted_mean_squared_error(problem):
    (opcodes, arguments, constants), (X, y, weights) = problem
    values = kernel_values(opcodes, arguments, constants, X)
    loss = kernel_loss(opcodes, arguments, constants, X, y, weights)

    expected = reference_loss(values, y, weights)
    if expected == np.inf:
        assert loss == np.inf
    else:
        np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-300)


POLYNOMIAL_OPERATORS = ("add", "sub", "mul", "neg", "square")


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(evaluation_problems(max_size=12, operators=POLYNOMIAL_OPERATORS))
def test_program_loss_matches_reference_on_polynomials(problem):
    # Straight against the numpy evaluator: small polynomials of values in
    # [-3, 3] are finite and well conditioned, so only rounding can differ.
    (opcodes, arguments, constants), (X, y, weights) = problem
    values = evaluate_reference(opcodes, arguments, constants, X)
    loss = kernel_loss(opcodes, arguments, constants, X, y, weights)
    np.testing.assert_allclose(loss, reference_loss(values, y, weights), rtol=1e-9)


@pytest.mark.parametrize("n_rows", ROW_COUNTS)
def test_program_loss_is_inf_when_one_row_is_not_finite(n_rows):
    # sqrt(x0) with x0 = -1 on the last row only: the last block is the bad one.
    opcodes, arguments, constants = program("x0", "sqrt")
    X = np.ones((n_rows, 1))
    X[-1, 0] = -1.0
    y = np.ones(n_rows)
    assert kernel_loss(opcodes, arguments, constants, X, y) == np.inf

    X[-1, 0] = 1.0
    assert kernel_loss(opcodes, arguments, constants, X, y) == 0.0


def test_program_loss_is_inf_when_residuals_overflow():
    opcodes, arguments, constants = program("x0", 1e200, "mul")
    X = np.ones((5, 1))
    assert np.isfinite(kernel_values(opcodes, arguments, constants, X)).all()
    assert kernel_loss(opcodes, arguments, constants, X, np.zeros(5)) == np.inf


def test_zero_weight_does_not_hide_a_non_finite_output():
    opcodes, arguments, constants = program("x0", "log")
    X = np.array([[1.0], [2.0], [-1.0]])
    weights = np.array([1.0, 1.0, 0.0])
    loss = kernel_loss(opcodes, arguments, constants, X, np.zeros(3), weights)
    assert loss == np.inf


def test_zero_weights_ignore_outlying_targets():
    opcodes, arguments, constants = program("x0", 2.0, "mul")
    X = np.linspace(-1.0, 1.0, 600)[:, None]
    y = 2.0 * X[:, 0]
    y[::50] += 100.0
    weights = np.ones(600)
    weights[::50] = 0.0

    assert kernel_loss(opcodes, arguments, constants, X, y, weights) == 0.0
    unweighted = kernel_loss(opcodes, arguments, constants, X, y)
    np.testing.assert_allclose(unweighted, 100.0**2 * 12 / 600, rtol=1e-12)


def test_program_loss_does_not_change_when_weights_are_scaled():
    opcodes, arguments, constants = program("x0", "sin", 0.5, "x1", "mul", "add")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, 2))
    y = rng.normal(size=700)
    weights = rng.uniform(0.1, 1.0, size=700)
    loss = kernel_loss(opcodes, arguments, constants, X, y, weights)
    scaled = kernel_loss(opcodes, arguments, constants, X, y, 1e3 * weights)
    unit = kernel_loss(opcodes, arguments, constants, X, y, np.ones(700))

    np.testing.assert_allclose(scaled, loss, rtol=1e-12)
    np.testing.assert_allclose(
        unit, kernel_loss(opcodes, arguments, constants, X, y), rtol=1e-12
    )
    assert loss != unit


def pack_population(drawn, capacity=None):
    """2-D arrays of a population, each row padded with junk after its length."""
    capacity = capacity or max(opcodes.size for opcodes, _, _ in drawn) + PADDING
    n_members = len(drawn)
    rng = np.random.default_rng(1)
    all_opcodes = rng.integers(0, N_OPCODES, size=(n_members, capacity))
    all_arguments = rng.integers(0, N_FEATURES, size=(n_members, capacity))
    all_constants = rng.normal(size=(n_members, capacity))
    lengths = np.zeros(n_members, dtype=np.int64)
    for member, (opcodes, arguments, constants) in enumerate(drawn):
        lengths[member] = opcodes.size
        all_opcodes[member, : opcodes.size] = opcodes
        all_arguments[member, : opcodes.size] = arguments
        all_constants[member, : constants.size] = constants
    return all_opcodes, all_arguments, lengths, all_constants


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(programs(N_FEATURES, max_size=20), min_size=1, max_size=8),
    st.sampled_from(ROW_COUNTS),
    st.booleans(),
)
def test_population_losses_match_program_loss(drawn, n_rows, weighted):
    population = pack_population(drawn)
    X = random_features(n_rows, N_FEATURES, seed=n_rows)
    rng = np.random.default_rng(n_rows)
    y = rng.normal(size=n_rows)
    weights = rng.uniform(0.5, 1.5, n_rows) if weighted else NO_WEIGHTS
    out = np.full(len(drawn), -1.0)
    population_losses(*population, np.ascontiguousarray(X.T), y, weights, out)

    for member, (opcodes, arguments, constants) in enumerate(drawn):
        expected = kernel_loss(opcodes, arguments, constants, X, y, weights)
        if expected == np.inf:
            assert out[member] == np.inf
        else:
            assert out[member] == expected


def test_population_losses_of_known_programs():
    drawn = [
        program("x0"),
        program("x0", 1.0, "add"),
        program("x0", "x0", "mul", "x0", "mul"),
        program("x0", "log"),
    ]
    X = np.linspace(-1.0, 1.0, 2 * ROW_BLOCK + 3)[:, None]
    y = X[:, 0] * X[:, 0] * X[:, 0]
    out = np.empty(4)
    population_losses(
        *pack_population(drawn), np.ascontiguousarray(X.T), y, NO_WEIGHTS, out
    )

    np.testing.assert_allclose(out[0], np.mean((X[:, 0] - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(out[1], np.mean((X[:, 0] + 1 - y) ** 2), rtol=1e-12)
    assert out[2] == 0.0
    assert out[3] == np.inf


def test_reference_helpers_agree_on_a_known_program():
    # Guards the helpers above: a wrong padding or stack would show up here.
    opcodes, arguments, constants = program("x0", "x1", "mul", 2.5, "mul", 1.0, "add")
    X = np.array([[1.0, 2.0], [0.5, -4.0]])
    assert opcodes[0] == VARIABLE and opcodes[3] == CONSTANT
    np.testing.assert_array_equal(
        kernel_values(opcodes, arguments, constants, X), [6.0, -4.0]
    )
    assert kernel_loss(opcodes, arguments, constants, X, np.array([6.0, -2.0])) == 2.0
