"""Printing programs as text, sympy and LaTeX."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lawfinder.operators import CONSTANT, OPERATORS, VARIABLE
from lawfinder.printing import (
    fold_program,
    format_uncertainty,
    to_latex,
    to_sympy,
    to_text,
)
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
    expression = to_sympy(*program("x0", 2.537, "mul", "x1", "sin", "add"))
    assert expression == sympy.Float(2.537) * x0 + sympy.sin(x1)
    assert all(symbol.is_real for symbol in expression.free_symbols)


def test_to_sympy_writes_simple_numbers_exactly():
    # Snapped constants hold the float of a simple number to the last bit.
    x0 = sympy.Symbol("x0", real=True)
    half_over_pi = float(1 / (2 * sympy.pi))
    expression = to_sympy(*program("x0", half_over_pi, "mul", 0.5, "add"))
    assert expression == x0 / (2 * sympy.pi) + sympy.Rational(1, 2)
    # One bit off is a fitted number, not pi.
    fitted = float(np.nextafter(half_over_pi, 1.0))
    assert to_sympy(*program("x0", fitted, "mul")) == sympy.Float(fitted) * x0


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
    nodes = program("x0", 2.537, "mul", "x1", -1.37, "pow", "add")
    expression, values = to_sympy(*nodes, ["c0", "x"], constant_symbols=True)
    names = {symbol.name: value for symbol, value in values.items()}
    assert names == {"c_0": 2.537, "c_1": -1.37}

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


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("value", "error", "expected"),
    [
        (1.0863, 0.0112, "1.086(11)"),
        (0.0001234, 0.0000021, "1.234(21)e-04"),
        (-1.0863, 0.0112, "-1.086(11)"),
        (-0.0001234, 0.0000021, "-1.234(21)e-04"),
        # Rounding the error up to a new digit moves the value's last place.
        (1.2345, 0.0996, "1.23(10)"),
        (1.2345, 0.096, "1.234(96)"),
        (0.0001234, 0.00000996, "1.23(10)e-04"),
        (2.0, 0.013, "2.000(13)"),
        (0.5, 3.2, "0.5(32)"),
        (1234.5, 12.0, "1234(12)"),
        (1234.5, 123.0, "1.23(12)e+03"),
        (123456789.0, 12.0, "1.23456789(12)e+08"),
        (0.00123, 0.00002, "0.001230(20)"),
        (5.0, 3200.0, "0.0(32)e+03"),
        (-0.0004, 0.1, "0.00(10)"),
        (0.0, 0.001, "0.0000(10)"),
        # The value rounds up to the next power of ten.
        (9.99996e-5, 1e-8, "1.00000(10)e-04"),
        # Unknown, infinite or zero errors leave the value alone.
        (2.5, NAN, "2.5"),
        (2.5, INF, "2.5"),
        (2.5, 0.0, "2.5"),
        (1e-05, NAN, "1e-05"),
        (INF, 1.0, "inf"),
        (NAN, 1.0, "nan"),
        # An error below the spacing of floats is no error a float can show.
        (1.0, 1e-17, "1"),
    ],
)
def test_format_uncertainty(value, error, expected):
    assert format_uncertainty(value, error) == expected


@pytest.mark.parametrize(
    ("value", "error", "expected"),
    [
        (1.0863, 0.0112, "1.086(11)"),
        (0.0001234, 0.0000021, r"1.234(21) \times 10^{-4}"),
        (-1234.5, 123.0, r"-1.23(12) \times 10^{3}"),
        (1e-05, NAN, r"1 \times 10^{-5}"),
        (-INF, NAN, r"-\infty"),
    ],
)
def test_format_uncertainty_in_latex(value, error, expected):
    assert format_uncertainty(value, error, latex=True) == expected


def test_format_uncertainty_rounds_a_lone_value_to_precision():
    assert format_uncertainty(3.14159265, NAN, precision=3) == "3.14"
    assert format_uncertainty(3.14159265, 0.0012, precision=3) == "3.1416(12)"


def test_format_uncertainty_rejects_a_negative_error():
    with pytest.raises(ValueError, match="-0.1"):
        format_uncertainty(1.0, -0.1)


CONCISE = re.compile(r"(-?\d+(?:\.(\d+))?)\((\d\d)\)(?:e([+-]\d+))?")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.floats(-1e8, 1e8, allow_nan=False),
    st.floats(1e-9, 1e3),
)
def test_format_uncertainty_reads_back_within_half_a_last_digit(value, relative):
    error = relative * max(abs(value), 1e-6)
    text = format_uncertainty(value, error)

    match = CONCISE.fullmatch(text)
    assert match, text
    number, decimals, digits, exponent = match.groups()
    scale = 10.0 ** int(exponent or 0)
    last_digit = 10.0 ** -len(decimals or "") * scale
    assert 10 <= int(digits) <= 99
    slack = 0.5 * last_digit * (1 + 1e-9)
    assert abs(float(number) * scale - value) <= slack + math.ulp(value)
    assert abs(int(digits) * last_digit - error) <= slack


def test_to_text_with_constant_errors():
    nodes = program("x0", 1.0863, "mul", 0.0001234, "add", "x1", -2.5, "mul", "sub")
    errors = [0.0112, 0.0000021, 0.04]
    text = to_text(*nodes, constant_errors=errors)
    assert text == "x0 * 1.086(11) + 1.234(21)e-04 - x1 * (-2.500(40))"
    # Constants of unknown error print alone, rounded to precision.
    text = to_text(*nodes, constant_errors=[0.0112, NAN, 0.0], precision=2)
    assert text == "x0 * 1.086(11) + 0.00012 - x1 * (-2.5)"


def test_constant_errors_must_match_the_constants():
    with pytest.raises(ValueError, match="constant_errors has 1 entries but there"):
        to_text(*program("x0", 1.0, "mul", 2.0, "add"), constant_errors=[0.1])


@pytest.mark.parametrize(
    ("nodes", "errors", "expected"),
    [
        (("x0", "sqrt", 2.0, "div"), [0.013], r"\frac{\sqrt{x_{0}}}{2.000(13)}"),
        ((2.5, "x0", "pow"), [0.1], r"{\left(2.50(10)\right)}^{x_{0}}"),
        (("x0", 2.5, "pow"), [0.1], r"{x_{0}}^{2.50(10)}"),
        (
            ("x0", 0.0001234, "mul"),
            [0.0000021],
            r"x_{0} \cdot \left(1.234(21) \times 10^{-4}\right)",
        ),
        (
            (0.0001234, "x0", "mul"),
            [0.0000021],
            r"1.234(21) \times 10^{-4} \cdot x_{0}",
        ),
        (("x0", 1.5, "add", "neg"), [0.1], r"-\left(x_{0} + 1.50(10)\right)"),
        (("x0", -1.5, "sub"), [NAN], r"x_{0} - \left(-1.5\right)"),
        (("x0", "x1", "div", "square"), [], r"{\left(\frac{x_{0}}{x_{1}}\right)}^{2}"),
        (("x0", 3.0, "mul", "sin"), [0.2], r"\sin{\left(x_{0} \cdot 3.00(20) \right)}"),
    ],
)
def test_to_latex_with_constant_errors_follows_the_tree(nodes, errors, expected):
    assert to_latex(*program(*nodes), constant_errors=errors) == expected
