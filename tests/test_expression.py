"""The user-facing Expression, and the evaluation kernel against the reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy
from hypothesis import given, settings

from lawfinder.expression import Expression
from lawfinder.kernels.evaluate import evaluate_program
from lawfinder.operators import ADD, CONSTANT, MUL, VARIABLE
from reference import assert_matches_reference, random_features
from strategies import program, programs

# More rows than one kernel block, so that block boundaries are crossed.
FEATURES = random_features(300, 3, seed=3)


def test_from_string_and_properties():
    expression = Expression.from_string("x * 2.5 + sin(y) - 1", ["x", "y"])
    assert str(expression) == "x * 2.5 + sin(y) - 1"
    assert expression.variable_names == ("x", "y")
    assert expression.complexity == 8
    assert expression.n_constants == 2
    np.testing.assert_array_equal(expression.constants, [2.5, 1.0])
    assert np.isnan(expression.constant_errors).all()
    assert expression.opcodes.dtype == np.int64
    assert expression.arguments.tolist() == [0, 0, 0, 1, 0, 0, 1, 0]


def test_from_string_names_default_variables():
    expression = Expression.from_string("x2 / x0")
    assert expression.variable_names == ("x0", "x1", "x2")
    assert Expression.from_string("2.5").variable_names == ()


def test_from_sympy():
    x = sympy.Symbol("x")
    expression = Expression.from_sympy(sympy.exp(-x / 2), ["x", "y"])
    assert str(expression) == "exp(-x / 2)"
    assert expression.variable_names == ("x", "y")


def test_repr_reads_back():
    expression = Expression.from_string("E kin / m", ["m", "E kin"])
    text = repr(expression)
    assert text == "Expression.from_string('E kin / m', ['m', 'E kin'])"
    assert str(eval(text)) == "E kin / m"


def test_arrays_are_read_only_copies():
    opcodes = np.array([VARIABLE, CONSTANT, MUL])
    expression = Expression(opcodes, [0, 0, 0], [2.0], ["x"], constant_errors=[0.1])
    opcodes[2] = ADD
    assert expression.opcodes[2] == MUL
    with pytest.raises(ValueError, match="read-only"):
        expression.constants[0] = 3.0
    np.testing.assert_array_equal(expression.constant_errors, [0.1])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (([VARIABLE, MUL], [0, 0], [], ["x"]), "position 1 has 2 operands"),
        (([VARIABLE, VARIABLE], [0, 0], [], ["x"]), "leaves 2 values"),
        (([VARIABLE], [0, 0], [], ["x"]), "same length"),
        (([], [], [], ["x"]), "at least one node"),
        (([42], [0], [], ["x"]), "unknown opcode 42 at position 0"),
        (([-1], [0], [], ["x"]), "unknown opcode -1"),
        (([VARIABLE], [1], [], ["x"]), "feature index 1 at position 0"),
        (([CONSTANT], [0], [], ["x"]), "constant index 0 at position 0"),
        (([VARIABLE], [0], [], ["x", "x"]), "unique"),
        (([VARIABLE], [0], [], None), "variable_names is required"),
        (([VARIABLE], [0], [[1.0]], ["x"]), "constants must be one-dimensional"),
        (([0.5], [0], [], ["x"]), "opcodes must hold integers"),
    ],
)
def test_constructor_rejects_bad_programs(arguments, message):
    with pytest.raises(ValueError, match=message):
        Expression(*arguments)


def test_constant_errors_must_match_constants():
    with pytest.raises(ValueError, match="constant_errors has 2 entries"):
        Expression([CONSTANT], [0], [1.0], [], constant_errors=[0.1, 0.2])


def test_evaluate_numpy_and_dataframe():
    expression = Expression.from_string("a / b + 1", ["a", "b"])
    X = np.array([[1.0, 2.0], [3.0, 0.0]])
    np.testing.assert_array_equal(expression.evaluate(X), [1.5, np.inf])

    frame = pd.DataFrame({"b": [2.0, 4.0], "other": [0.0, 0.0], "a": [1.0, 2.0]})
    np.testing.assert_array_equal(expression.evaluate(frame), [1.5, 1.5])


def test_evaluate_on_no_rows():
    expression = Expression.from_string("x0 + 1")
    assert expression.evaluate(np.empty((0, 1))).shape == (0,)


def test_evaluate_accepts_non_contiguous_integer_data():
    expression = Expression.from_string("x0 * x1")
    X = np.arange(12).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(expression.evaluate(X), [0 * 2, 4 * 6, 8 * 10])


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.ones(3), "two-dimensional"),
        (np.ones((3, 3)), "X has 3 columns but the expression has 2 features"),
        (pd.DataFrame({"a": [1.0]}), r"lacks the columns \['b'\]"),
    ],
)
def test_evaluate_rejects_bad_data(X, message):
    with pytest.raises(ValueError, match=message):
        Expression.from_string("a * b", ["a", "b"]).evaluate(X)


def test_to_sympy_and_latex():
    expression = Expression.from_string("sqrt(x0) * 0.12345 + x1", ["x0", "x1"])
    x0, x1 = sympy.symbols("x0 x1", real=True)
    assert expression.to_sympy() == sympy.Float(0.12345) * sympy.sqrt(x0) + x1
    assert expression.to_latex(precision=2) == r"0.12 \sqrt{x_{0}} + x_{1}"

    _, values = expression.to_sympy(constant_symbols=True)
    assert list(values.values()) == [0.12345]


def test_simplify_keeps_the_function():
    expression = Expression.from_string("x0 * x0 + x0 / inv(x0) + sin(x1) ^ 2")
    simplified = expression.simplify()
    assert simplified.complexity < expression.complexity
    assert simplified.variable_names == expression.variable_names
    np.testing.assert_allclose(
        simplified.evaluate(FEATURES[:, :2]),
        expression.evaluate(FEATURES[:, :2]),
        rtol=1e-12,
    )


def _kernel(opcodes, arguments, constants, X):
    out = np.full(X.shape[0], -123.0)
    XT = np.ascontiguousarray(X.T)
    evaluate_program(opcodes, arguments, len(opcodes), constants, XT, out)
    return out


def test_kernel_evaluates_a_known_program():
    opcodes, arguments, constants = program("x0", 2.5, "mul", "x1", "sin", "add")
    expected = FEATURES[:, 0] * 2.5 + np.sin(FEATURES[:, 1])
    # The kernels' sin may differ from numpy's in the last place or two.
    np.testing.assert_allclose(
        _kernel(opcodes, arguments, constants, FEATURES), expected, rtol=1e-14
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=25))
def test_kernel_matches_reference(program_arrays):
    values = _kernel(*program_arrays, FEATURES)
    assert_matches_reference(values, *program_arrays, FEATURES, rtol=1e-9)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=15))
def test_expression_evaluate_matches_kernel(program_arrays):
    expression = Expression(*program_arrays, ["a", "b", "c"])
    np.testing.assert_array_equal(
        expression.evaluate(FEATURES), _kernel(*program_arrays, FEATURES)
    )
