"""Printing programs as text, sympy and LaTeX."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings

from lawfinder.operators import CONSTANT, OPERATORS, VARIABLE
from lawfinder.printing import fold_program, to_latex, to_sympy, to_text
from reference import assert_matches_reference, random_features
from strategies import program, programs


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        (("x0", 2.5, "mul", "x1", "sin", "add"), "x0 * 2.5 + sin(x1)"),
        (("x0", "x1", "sub", "x2", "sub"), "x0 - x1 - x2"),
        (("x0", "x1", "x2", "sub", "sub"), "x0 - (x1 - x2)"),
        (("x0", "x1", "x2", "add", "add"), "x0 + (x1 + x2)"),
        (("x0", "x1", "mul", "x2", "div"), "x0 * x1 / x2"),
        (("x0", "x1", "x2", "mul", "div"), "x0 / (x1 * x2)"),
        (("x0", "x1", "add", "x2", "mul"), "(x0 + x1) * x2"),
        (("x0", "x1", "x2", "mul", "add"), "x0 + x1 * x2"),
        (("x0", "x1", "x2", "pow", "pow"), "x0 ^ x1 ^ x2"),
        (("x0", "x1", "pow", "x2", "pow"), "(x0 ^ x1) ^ x2"),
        (("x0", "x1", "mul", "x2", "pow"), "(x0 * x1) ^ x2"),
        (("x0", 2.0, "pow"), "x0 ^ 2"),
        (("x0", -1.5, "mul"), "x0 * (-1.5)"),
        ((-1.5, "x0", "mul"), "-1.5 * x0"),
        ((-1.5, "x0", "pow"), "(-1.5) ^ x0"),
        (("x0", -2.0, "pow"), "x0 ^ (-2)"),
        (("x0", "neg"), "-x0"),
        (("x0", "neg", "x1", "mul"), "-x0 * x1"),
        (("x0", "x1", "neg", "sub"), "x0 - (-x1)"),
        (("x0", "x1", "add", "neg"), "-(x0 + x1)"),
        (("x0", "x1", "pow", "neg"), "-(x0 ^ x1)"),
        (("x0", "neg", "x1", "pow"), "(-x0) ^ x1"),
        (("x0", "neg", "neg"), "-(-x0)"),
        ((2.5, "neg"), "-(2.5)"),
        ((-2.5, "neg"), "-(-2.5)"),
        (("x0", "sin", "neg"), "-sin(x0)"),
        (("x0", "x1", "add", "sqrt"), "sqrt(x0 + x1)"),
        (("x0", "neg", "square"), "square(-x0)"),
        ((-0.0,), "-0"),
        ((1e-05,), "1e-05"),
        ((1e20,), "1e+20"),
        ((0.1,), "0.1"),
        ((float("inf"),), "inf"),
    ],
)
def test_known_texts(nodes, expected):
    assert to_text(*program(*nodes)) == expected


def test_precision_rounds_constants():
    nodes = program("x0", 3.14159265, "mul", 0.000123456, "add")
    assert to_text(*nodes, precision=3) == "x0 * 3.14 + 0.000123"
    assert to_text(*nodes) == "x0 * 3.14159265 + 0.000123456"


def test_variable_names_are_printed_as_given():
    nodes = program("x0", "x1", "mul", "x2", "div")
    names = ["m.1", "E kin", "θ"]
    assert to_text(*nodes, variable_names=names) == "m.1 * E kin / θ"


@pytest.mark.parametrize(
    ("opcodes", "arguments", "constants", "message"),
    [
        ([VARIABLE, OPERATORS["add"].opcode], [0, 0], [], "needs 2 operands"),
        ([VARIABLE, VARIABLE], [0, 1], [], "leaves 2 values"),
        ([99], [0], [], "unknown opcode 99"),
        ([VARIABLE], [5], [], "feature index 5 is out of range"),
        ([CONSTANT], [1], [2.0], "constant index 1 is out of range"),
        ([VARIABLE], [0, 0], [], "same length"),
    ],
)
def test_malformed_programs_are_rejected(opcodes, arguments, constants, message):
    with pytest.raises(ValueError, match=message):
        to_text(opcodes, arguments, constants, ["x0", "x1"])


def test_fold_program_passes_operands_in_order():
    nodes = program("x0", "x1", "sub")
    order = fold_program(
        nodes[0],
        nodes[1],
        lambda index: [index],
        lambda slot: [],
        lambda operator, operands: operands[0] + operands[1],
    )
    assert order == [0, 1]


def test_to_sympy_known_expression():
    x0, x1 = sympy.symbols("x0 x1", real=True)
    expression = to_sympy(*program("x0", 2.5, "mul", "x1", "sin", "add"))
    assert expression == sympy.Float(2.5) * x0 + sympy.sin(x1)
    assert all(symbol.is_real for symbol in expression.free_symbols)


def test_to_sympy_keeps_odd_names_whole():
    names = ["m.1", "E kin", "a,b"]
    expression = to_sympy(*program("x0", "x1", "mul", "x2", "add"), names)
    assert {symbol.name for symbol in expression.free_symbols} == set(names)

    function = sympy.lambdify(
        sorted(expression.free_symbols, key=lambda s: names.index(s.name)),
        expression,
    )
    assert function(2.0, 3.0, 4.0) == 10.0


def test_to_sympy_accepts_given_symbols():
    a, b = sympy.symbols("a b")
    expression = to_sympy(*program("x0", "x1", "div"), symbols=[a, b])
    assert expression == a / b


def test_to_sympy_with_constant_symbols():
    nodes = program("x0", 2.5, "mul", "x1", -1.0, "pow", "add")
    expression, values = to_sympy(*nodes, ["c0", "x"], constant_symbols=True)
    names = {symbol.name: value for symbol, value in values.items()}
    assert names == {"c_0": 2.5, "c_1": -1.0}

    substituted = expression.subs(values)
    assert substituted == to_sympy(*nodes, ["c0", "x"])


def test_to_sympy_computes_constant_subtrees_in_float64():
    # mpmath would otherwise work out exp(exp(exp(9))) to the last digit.
    expression = to_sympy(*program(9.0, "exp", "exp", "exp", "x0", "mul"))
    assert expression == sympy.oo * sympy.Symbol("x0", real=True)
    assert to_sympy(*program(-1.0, "sqrt")) is sympy.nan


def test_to_sympy_survives_division_by_a_float_zero():
    nodes = program("x0", "x0", "sub", 1.0, "add", "x1", "x1", "sub", 0.0, "add", "div")
    assert to_sympy(*nodes) is sympy.zoo


def test_to_latex_is_readable():
    latex = to_latex(*program("x0", "sqrt", 0.123456, "mul"), precision=3)
    assert latex == r"0.123 \sqrt{x_{0}}"
    latex = to_latex(*program("x0", "x1", "div", "exp"), ["mass", "c"])
    assert latex == r"e^{\frac{mass}{c}}"


FEATURES = random_features(64, 3, seed=1)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=15))
def test_sympy_agrees_with_numpy(program_arrays):
    # sympy turns a constant 1 / 0 or log(0) into complex infinity, which
    # lambdify cannot print; numpy gives a non-finite value there as well.
    expression = to_sympy(*program_arrays).subs(sympy.zoo, sympy.nan)
    symbols = sympy.symbols("x0 x1 x2", real=True)
    function = sympy.lambdify(symbols, expression, modules="numpy")
    with np.errstate(all="ignore"):
        values = function(*FEATURES.T)

    # sympy reorders and merges terms, and may be finite where numpy
    # overflows; compare where both are finite.
    values = np.broadcast_to(np.asarray(values, dtype=complex), FEATURES[:, 0].shape)
    values = np.where(values.imag == 0, values.real, np.nan)
    assert_matches_reference(
        values, *program_arrays, FEATURES, compare_non_finite=False
    )
