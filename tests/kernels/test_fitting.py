"""Derivatives with respect to the constants, and Levenberg-Marquardt.

``normal_equations`` is checked against an independent numpy forward mode on
random programs, and against finite differences of the reference evaluator on
one program per operator; ``fit_constants`` against known constants and
``scipy.optimize.least_squares``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from scipy.optimize import least_squares

from lawfinder._config import ROW_BLOCK
from lawfinder.kernels.evaluate import program_loss
from lawfinder.kernels.fitting import (
    count_constants,
    fit_constants,
    make_scratch,
    normal_equations,
)
from lawfinder.operators import BY_OPCODE, CONSTANT, OPERATORS, VARIABLE
from reference import evaluate_reference
from strategies import programs

NO_WEIGHTS = np.empty(0)


# ---------------------------------------------------------------------------
# Plain numpy references
# ---------------------------------------------------------------------------


def _unary_derivative(name: str, a: np.ndarray) -> np.ndarray:
    """f'(a) for every unary operator of the table, written out by hand."""
    with np.errstate(all="ignore"):
        return {
            "neg": lambda: -np.ones_like(a),
            "square": lambda: 2.0 * a,
            "cube": lambda: 3.0 * a**2,
            "sqrt": lambda: 1.0 / (2.0 * np.sqrt(a)),
            "exp": lambda: np.exp(a),
            "log": lambda: 1.0 / a,
            "sin": lambda: np.cos(a),
            "cos": lambda: -np.sin(a),
            "tan": lambda: 1.0 / np.cos(a) ** 2,
            "tanh": lambda: 1.0 / np.cosh(a) ** 2,
            "abs": lambda: np.sign(a),
            "inv": lambda: -1.0 / a**2,
        }[name]()


def _binary_partials(name, a, b):
    """Partial derivatives (d/da, d/db) of ``a op b``, written out by hand."""
    with np.errstate(all="ignore"):
        if name == "add":
            return np.ones_like(a), np.ones_like(b)
        if name == "sub":
            return np.ones_like(a), -np.ones_like(b)
        if name == "mul":
            return b, a
        if name == "div":
            return 1.0 / b, -a / b**2
        return b * a ** (b - 1.0), a**b * np.log(a)


def _chain(partial, gradient, bound):
    """One term of the chain rule and its magnitude; None for inactive operands."""
    if gradient is None:
        return None, None
    with np.errstate(all="ignore"):
        return partial * gradient, np.abs(partial) * bound


def _add_terms(first, second):
    if first is None:
        return second
    if second is None:
        return first
    return first + second


# Derivatives computed from a result, such as 1 - tanh(a)^2, are exact only to
# an ulp of 1 however small they are; scaled by a comparison's rtol of 1e-5,
# this slack on every unary factor covers that.
FACTOR_SLACK = 1e-10


class ForwardMode(NamedTuple):
    """What ``forward_mode_reference`` returns."""

    value: np.ndarray  # (n_rows,)
    jacobian: np.ndarray  # (n_constants, n_rows)
    bound: np.ndarray  # (n_constants, n_rows): sum of |terms| of each derivative
    largest: float  # largest finite |value| of any node


def forward_mode_reference(opcodes, arguments, constants, X) -> ForwardMode:
    """Values and Jacobian w.r.t. the constants, propagated in plain numpy.

    Alongside each derivative goes the sum of the magnitudes of the terms that
    made it: rounding errors are a few ulps of that sum, however much the
    terms cancel, so it is the yardstick for comparing derivatives.
    """
    n_rows = X.shape[0]
    n_constants = constants.shape[0]
    stack = []
    largest = 0.0
    for opcode, argument in zip(opcodes, arguments, strict=True):
        if opcode == VARIABLE:
            stack.append((X[:, argument].astype(float), None, None))
        elif opcode == CONSTANT:
            gradient = np.zeros((n_constants, n_rows))
            gradient[argument] = 1.0
            value = np.full(n_rows, constants[argument])
            stack.append((value, gradient, gradient.copy()))
        elif BY_OPCODE[int(opcode)].arity == 1:
            operator = BY_OPCODE[int(opcode)]
            a, da, bound_a = stack.pop()
            partial = _unary_derivative(operator.name, a)
            gradient, bound = _chain(partial, da, bound_a)
            if bound is not None:
                bound = bound + FACTOR_SLACK * bound_a
            stack.append((operator.numpy(a), gradient, bound))
        else:
            operator = BY_OPCODE[int(opcode)]
            b, db, bound_b = stack.pop()
            a, da, bound_a = stack.pop()
            partial_a, partial_b = _binary_partials(operator.name, a, b)
            term_a, size_a = _chain(partial_a, da, bound_a)
            term_b, size_b = _chain(partial_b, db, bound_b)
            value = operator.numpy(a, b)
            stack.append(
                (value, _add_terms(term_a, term_b), _add_terms(size_a, size_b))
            )
        magnitude = np.abs(stack[-1][0])
        largest = max(largest, np.max(magnitude[np.isfinite(magnitude)], initial=0.0))
    ((value, gradient, bound),) = stack
    if gradient is None:
        gradient = np.zeros((n_constants, n_rows))
        bound = gradient.copy()
    return ForwardMode(value, gradient, bound, largest)


def finite_difference_jacobian(opcodes, arguments, constants, X):
    """Fourth-order central differences of the reference evaluator."""
    jacobian = np.empty((constants.shape[0], X.shape[0]))
    for j in range(constants.shape[0]):
        step = 1e-4 * max(1.0, abs(constants[j]))

        def shifted(multiple, j=j, step=step):
            moved = constants.copy()
            moved[j] += multiple * step
            return evaluate_reference(opcodes, arguments, moved, X)

        jacobian[j] = (
            -shifted(2) + 8.0 * shifted(1) - 8.0 * shifted(-1) + shifted(-2)
        ) / (12.0 * step)
    return jacobian


def kernel_normal_equations(opcodes, arguments, constants, X, y, weights):
    """Call ``normal_equations`` on a whole program; returns (loss, jtj, jtr)."""
    n_constants = count_constants(opcodes, opcodes.shape[0])
    XT = np.ascontiguousarray(X.T)
    jtj = np.full((n_constants, n_constants), np.nan)
    jtr = np.full(n_constants, np.nan)
    scratch = make_scratch(opcodes.shape[0], n_constants)
    loss = normal_equations(
        opcodes,
        arguments,
        opcodes.shape[0],
        constants,
        n_constants,
        XT,
        y,
        weights,
        jtj,
        jtr,
        *scratch,
    )
    return loss, jtj, jtr


def kernel_fit(opcodes, arguments, constants, X, y, weights=NO_WEIGHTS, iterations=100):
    """Run ``fit_constants`` on a copy of the constants: (loss, evals, constants)."""
    constants = constants.copy()
    capacity = opcodes.shape[0]
    scratch = make_scratch(capacity, constants.shape[0])
    loss_stack = np.empty((capacity, ROW_BLOCK))
    loss, n_evaluations = fit_constants(
        opcodes,
        arguments,
        capacity,
        constants,
        np.ascontiguousarray(X.T),
        y,
        weights,
        iterations,
        *scratch,
        loss_stack,
    )
    return loss, n_evaluations, constants


def kernel_loss(opcodes, arguments, constants, X, y, weights=NO_WEIGHTS):
    stack = np.empty((opcodes.shape[0], ROW_BLOCK))
    return program_loss(
        opcodes,
        arguments,
        opcodes.shape[0],
        constants,
        np.ascontiguousarray(X.T),
        y,
        weights,
        stack,
    )


def assert_normal_equations_match(
    kernel_result, value, jacobian, y, weights, rtol, bound=None
):
    """Compare the kernel's (loss, jtj, jtr) with those made from ``jacobian``.

    The tolerance of each sum is ``rtol`` times the sum of the magnitudes of
    its terms, with ``bound`` (default ``|jacobian|``) as the magnitude of
    each derivative, so sums that cancel to nearly zero are judged fairly.
    """
    bound = np.abs(jacobian) if bound is None else bound
    w = weights if weights.size else np.ones_like(y)
    residual = value - y
    loss, jtj, jtr = kernel_result

    expected_loss = np.sum(w * residual**2) / np.sum(w)
    np.testing.assert_allclose(loss, expected_loss, rtol=1e-8)

    expected_jtr = jacobian @ (w * residual)
    tolerance_jtr = rtol * (bound @ np.abs(w * residual)) + 1e-300
    assert np.all(np.abs(jtr - expected_jtr) <= tolerance_jtr), (jtr, expected_jtr)

    expected_jtj = (jacobian * w) @ jacobian.T
    tolerance_jtj = rtol * ((bound * w) @ bound.T) + 1e-300
    assert np.all(np.abs(jtj - expected_jtj) <= tolerance_jtj), (jtj, expected_jtj)
    assert np.array_equal(jtj, jtj.T)


def _program(*nodes):
    """Postfix program from nodes: "x<i>" variables, floats constants, names."""
    opcodes, arguments, constants = [], [], []
    for node in nodes:
        if isinstance(node, float):
            opcodes.append(CONSTANT)
            arguments.append(len(constants))
            constants.append(node)
        elif node.startswith("x"):
            opcodes.append(VARIABLE)
            arguments.append(int(node[1:]))
        else:
            opcodes.append(OPERATORS[node].opcode)
            arguments.append(0)
    return (
        np.array(opcodes, dtype=np.int64),
        np.array(arguments, dtype=np.int64),
        np.array(constants, dtype=np.float64),
    )


# ---------------------------------------------------------------------------
# normal_equations
# ---------------------------------------------------------------------------

UNARY = [name for name, op in OPERATORS.items() if op.arity == 1]
BINARY = [name for name, op in OPERATORS.items() if op.arity == 2]


def _operator_program(name):
    """A program with constants on both sides of ``name``, inside its domain."""
    # On x in [0.2, 0.9] every operand below stays in (0.3, 1.1): positive,
    # away from the poles of tan, inv and log and from the kinks of abs.
    left = ("x0", 0.7, "mul", 0.3, "add")
    if OPERATORS[name].arity == 1:
        return _program(*left, name, 1.3, "mul")
    return _program(*left, "x1", 0.5, "mul", 0.4, "add", name, 1.3, "mul")


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_normal_equations_match_finite_differences_for_every_operator(name):
    opcodes, arguments, constants = _operator_program(name)
    rng = np.random.default_rng(1)
    X = rng.uniform(0.2, 0.9, size=(40, 2))
    y = rng.normal(size=40)
    weights = rng.uniform(0.5, 2.0, size=40)
    value = evaluate_reference(opcodes, arguments, constants, X)
    assert np.all(np.isfinite(value))

    jacobian = finite_difference_jacobian(opcodes, arguments, constants, X)
    result = kernel_normal_equations(opcodes, arguments, constants, X, y, weights)
    assert_normal_equations_match(result, value, jacobian, y, weights, 1e-7)


@pytest.mark.parametrize("name", UNARY + BINARY)
def test_forward_mode_reference_agrees_with_finite_differences(name):
    # The numpy forward mode used on random programs is itself checked here.
    opcodes, arguments, constants = _operator_program(name)
    X = np.random.default_rng(2).uniform(0.2, 0.9, size=(30, 2))
    jacobian = forward_mode_reference(opcodes, arguments, constants, X).jacobian
    expected = finite_difference_jacobian(opcodes, arguments, constants, X)
    np.testing.assert_allclose(jacobian, expected, rtol=1e-7, atol=1e-9)


DATA_ROWS = 300  # more than one row block, so block sums are exercised


@st.composite
def fitting_problems(draw):
    """A program with constants, data, targets and (sometimes) weights."""
    opcodes, arguments, constants = draw(programs(n_features=2, max_size=14))
    assume(constants.size > 0)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2.0, 2.0, size=(DATA_ROWS, 2))
    y = rng.normal(size=DATA_ROWS)
    weights = rng.uniform(0.1, 3.0, DATA_ROWS) if draw(st.booleans()) else NO_WEIGHTS
    return (opcodes, arguments, constants), (X, y, weights)


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(fitting_problems())
def test_normal_equations_match_numpy_forward_mode(problem):
    (opcodes, arguments, constants), (X, y, weights) = problem
    result = kernel_normal_equations(opcodes, arguments, constants, X, y, weights)
    reference = forward_mode_reference(opcodes, arguments, constants, X)
    value, jacobian = reference.value, reference.jacobian

    if not np.all(np.isfinite(value)):
        event("output not finite")
        assert result[0] == np.inf
        return
    # Keep to well-conditioned cases: huge intermediates lose the digits that
    # the derivatives are compared on, and overflowing products differ by order.
    assume(np.all(np.isfinite(reference.bound)))
    assume(reference.largest < 1e6)
    assume(np.max(reference.bound) < 1e6)
    event("derivatives compared")
    assert_normal_equations_match(
        result, value, jacobian, y, weights, 1e-5, reference.bound
    )


def test_normal_equations_loss_is_inf_when_output_is_not_finite():
    # log(c0 * x0) is nan on the negative rows.
    opcodes, arguments, constants = _program("x0", 2.0, "mul", "log")
    X = np.linspace(-1.0, 1.0, 21)[:, None]
    y = np.zeros(21)
    loss, _, _ = kernel_normal_equations(
        opcodes, arguments, constants, X, y, NO_WEIGHTS
    )
    assert loss == np.inf


def test_normal_equations_loss_is_inf_when_output_overflows():
    opcodes, arguments, constants = _program("x0", 800.0, "mul", "exp")
    X = np.linspace(0.5, 1.5, 11)[:, None]
    loss, _, _ = kernel_normal_equations(
        opcodes, arguments, constants, X, np.zeros(11), NO_WEIGHTS
    )
    assert loss == np.inf


def test_normal_equations_on_many_blocks():
    # Rows spread over several blocks, the last one partial.
    opcodes, arguments, constants = _program(
        "x0", 1.5, "mul", "sin", 0.5, "x1", "mul", "exp", "mul", -0.25, "add"
    )
    rng = np.random.default_rng(5)
    n_rows = 3 * ROW_BLOCK + 17
    X = rng.uniform(-1.0, 1.0, size=(n_rows, 2))
    y = rng.normal(size=n_rows)
    weights = rng.uniform(0.0, 2.0, size=n_rows)
    value, jacobian, _, _ = forward_mode_reference(opcodes, arguments, constants, X)
    for w in (NO_WEIGHTS, weights):
        result = kernel_normal_equations(opcodes, arguments, constants, X, y, w)
        assert_normal_equations_match(result, value, jacobian, y, w, 1e-10)


def test_count_constants():
    opcodes, _, _ = _program("x0", 1.0, "mul", 2.0, "add", "sin", 3.0, "pow")
    assert count_constants(opcodes, opcodes.shape[0]) == 3
    assert count_constants(opcodes, 2) == 1
    assert count_constants(opcodes[:1], 1) == 0


# ---------------------------------------------------------------------------
# fit_constants
# ---------------------------------------------------------------------------

EXPONENTIAL = _program("x0", 0.0, "mul", "exp", 0.0, "mul", 0.0, "add")
"""c1 * exp(c0 * x0) + c2, in postfix: x0 c0 * exp c1 * c2 +."""


def _exponential_data(true_constants, n_rows=60, noise=0.0, seed=0):
    opcodes, arguments, _ = EXPONENTIAL
    X = np.linspace(0.0, 3.0, n_rows)[:, None]
    y = evaluate_reference(opcodes, arguments, true_constants, X)
    y = y + noise * np.random.default_rng(seed).normal(size=n_rows)
    return X, y


def test_fit_constants_recovers_known_constants_from_perturbed_starts():
    opcodes, arguments, _ = EXPONENTIAL
    truth = np.array([-1.3, 2.5, 0.7])
    X, y = _exponential_data(truth)
    rng = np.random.default_rng(3)
    for _ in range(10):
        start = truth * rng.uniform(0.6, 1.4, size=3)
        start_loss = kernel_loss(opcodes, arguments, start, X, y)
        loss, n_evaluations, fitted = kernel_fit(opcodes, arguments, start, X, y)

        np.testing.assert_allclose(fitted, truth, rtol=1e-7)
        assert loss < 1e-20
        assert loss <= start_loss
        assert n_evaluations > 1


def test_fit_constants_never_increases_the_loss_from_far_starts():
    opcodes, arguments, _ = EXPONENTIAL
    X, y = _exponential_data(np.array([-1.3, 2.5, 0.7]), noise=0.05)
    rng = np.random.default_rng(4)
    for _ in range(20):
        start = rng.normal(scale=3.0, size=3)
        start_loss = kernel_loss(opcodes, arguments, start, X, y)
        loss, _, fitted = kernel_fit(opcodes, arguments, start, X, y, iterations=5)
        if not np.isfinite(start_loss):
            assert loss == np.inf
            np.testing.assert_array_equal(fitted, start)
            continue
        assert loss <= start_loss
        np.testing.assert_allclose(
            loss, kernel_loss(opcodes, arguments, fitted, X, y), rtol=1e-12
        )


@settings(
    max_examples=100,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(fitting_problems())
def test_fit_constants_never_increases_the_loss(problem):
    (opcodes, arguments, constants), (X, y, weights) = problem
    X = X[:60]
    y = y[:60]
    weights = weights[:60]
    start_loss = kernel_loss(opcodes, arguments, constants, X, y, weights)
    loss, _, fitted = kernel_fit(opcodes, arguments, constants, X, y, weights, 10)

    final_loss = kernel_loss(opcodes, arguments, fitted, X, y, weights)
    if not np.isfinite(start_loss):
        np.testing.assert_array_equal(fitted, constants)
        assert loss == np.inf
        return
    assert final_loss <= start_loss
    if np.isfinite(loss):
        np.testing.assert_allclose(loss, final_loss, rtol=1e-12, atol=1e-300)


def test_fit_constants_without_constants_returns_the_loss():
    opcodes, arguments, constants = _program("x0", "x1", "mul")
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = X[:, 0] * X[:, 1] + 1.0
    loss, n_evaluations, _ = kernel_fit(opcodes, arguments, constants, X, y)
    assert n_evaluations == 1
    np.testing.assert_allclose(loss, 1.0, rtol=1e-14)


def test_fit_constants_leaves_constants_when_output_is_not_finite():
    opcodes, arguments, constants = _program("x0", 2.0, "mul", "log")
    X = np.linspace(-1.0, 1.0, 21)[:, None]
    loss, n_evaluations, fitted = kernel_fit(opcodes, arguments, constants, X, X[:, 0])
    assert loss == np.inf
    assert n_evaluations == 1
    np.testing.assert_array_equal(fitted, constants)


def _scipy_fit(opcodes, arguments, start, X, y, weights):
    root_weights = np.sqrt(weights) if weights.size else 1.0

    def residuals(constants):
        return root_weights * (evaluate_reference(opcodes, arguments, constants, X) - y)

    result = least_squares(residuals, start, method="lm", xtol=1e-15, ftol=1e-15)
    return result.x


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_constants_agrees_with_scipy_on_noisy_exponential(weighted):
    opcodes, arguments, _ = EXPONENTIAL
    X, y = _exponential_data(np.array([-0.8, 2.0, 0.5]), noise=0.05, seed=1)
    weights = np.linspace(0.5, 2.0, y.size) if weighted else NO_WEIGHTS
    start = np.array([-0.5, 1.0, 0.0])

    loss, _, fitted = kernel_fit(opcodes, arguments, start, X, y, weights)
    expected = _scipy_fit(opcodes, arguments, start, X, y, weights)
    np.testing.assert_allclose(fitted, expected, rtol=1e-6)
    np.testing.assert_allclose(
        loss, kernel_loss(opcodes, arguments, expected, X, y, weights), rtol=1e-9
    )


def test_fit_constants_agrees_with_scipy_on_saturation_curve():
    # c0 * x0 / (c1 + x0): Michaelis-Menten, a classic nonlinear fit.
    opcodes, arguments, _ = _program("x0", 0.0, "mul", 0.0, "x0", "add", "div")
    X = np.linspace(0.1, 5.0, 40)[:, None]
    rng = np.random.default_rng(2)
    y = 3.0 * X[:, 0] / (0.7 + X[:, 0]) + 0.02 * rng.normal(size=40)
    weights = rng.uniform(0.5, 1.5, size=40)
    start = np.array([1.0, 1.0])

    loss, _, fitted = kernel_fit(opcodes, arguments, start, X, y, weights)
    expected = _scipy_fit(opcodes, arguments, start, X, y, weights)
    np.testing.assert_allclose(fitted, expected, rtol=1e-6)
    assert loss < 0.02**2 * 2


def test_fit_constants_fits_a_power_law_on_data_that_include_zero():
    # c1 * x0^c0 on x0 = 0, 0.05, ..., 2: a power law measured from the origin.
    opcodes, arguments, _ = _program("x0", 1.5, "pow", 2.0, "mul")
    X = np.linspace(0.0, 2.0, 41)[:, None]
    y = 3.0 * X[:, 0] ** 1.2
    start = np.array([1.5, 2.0])
    assert np.isfinite(kernel_loss(opcodes, arguments, start, X, y))

    loss, _, fitted = kernel_fit(opcodes, arguments, start, X, y)
    assert np.isfinite(loss)
    np.testing.assert_allclose(fitted, [1.2, 3.0], rtol=1e-6)
