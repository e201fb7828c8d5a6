"""Reading programs from text and from sympy expressions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lawfinder.parsing import from_sympy, parse
from lawfinder.printing import to_sympy, to_text
from reference import (
    assert_matches_reference,
    evaluate_reference,
    random_features,
)
from strategies import program, programs


def assert_same_program(actual, expected):
    for actual_array, expected_array in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(actual_array, expected_array)
        assert actual_array.dtype == expected_array.dtype


@pytest.mark.parametrize(
    ("text", "nodes"),
    [
        ("x0 * 2.5 + sin(x1)", ("x0", 2.5, "mul", "x1", "sin", "add")),
        ("x0 - x1 - x2", ("x0", "x1", "sub", "x2", "sub")),
        ("x0 - (x1 - x2)", ("x0", "x1", "x2", "sub", "sub")),
        ("x0 + x1 * x2", ("x0", "x1", "x2", "mul", "add")),
        ("x0 / x1 / x2", ("x0", "x1", "div", "x2", "div")),
        ("x0 ^ x1 ^ x2", ("x0", "x1", "x2", "pow", "pow")),
        ("x0 ** x1 ** x2", ("x0", "x1", "x2", "pow", "pow")),
        ("(x0 ^ x1) ^ x2", ("x0", "x1", "pow", "x2", "pow")),
        ("2 * x0 ^ 3", (2.0, "x0", 3.0, "pow", "mul")),
        ("-2.5", (-2.5,)),
        ("-2.5 * x0", (-2.5, "x0", "mul")),
        ("x0 * -2.5", ("x0", -2.5, "mul")),
        ("x0 - -2.5", ("x0", -2.5, "sub")),
        ("-(2.5)", (2.5, "neg")),
        ("-2 ^ 2", (2.0, 2.0, "pow", "neg")),
        ("-x0 ^ 2", ("x0", 2.0, "pow", "neg")),
        ("-x0 * x1", ("x0", "neg", "x1", "mul")),
        ("x0 ^ -x1 * x2", ("x0", "x1", "neg", "pow", "x2", "mul")),
        ("--x0", ("x0", "neg", "neg")),
        ("+x0", ("x0",)),
        ("1e-3 + .5 + 2. + 3E+2", (0.001, 0.5, "add", 2.0, "add", 300.0, "add")),
        ("ln(x0)", ("x0", "log")),
        ("LOG(x0)", ("x0", "log")),
        ("pow(x0, x1)", ("x0", "x1", "pow")),
        ("sub(x0, x1)", ("x0", "x1", "sub")),
        ("reciprocal(square(x0))", ("x0", "square", "inv")),
        ("pi * x0", (math.pi, "x0", "mul")),
        ("-pi", (-math.pi,)),
        ("  x0\t*\n x1 ", ("x0", "x1", "mul")),
    ],
)
def test_known_parses(text, nodes):
    assert_same_program(parse(text), program(*nodes))


def test_named_variables():
    names = ["mass", "m.1", "E kin", "θ", "pi"]
    parsed = parse("mass * m.1 + E kin / θ - pi", names)
    assert_same_program(
        parsed,
        program("x0", "x1", "mul", "x2", "x3", "div", "add", "x4", "sub"),
    )


def test_verbatim_names_do_not_swallow_operators():
    assert parse("e * exp(e)", ["e"])[1].tolist() == [0, 0, 0, 0]


@pytest.mark.parametrize(
    ("text", "names", "message"),
    [
        ("x0 + )", None, r"""unexpected '\)' at column 6 in "x0 \+ \)\""""),
        ("x0 +", None, r'unexpected end of text at column 5 in "x0 \+"'),
        ("(x0", None, r"expected '\)' but found end of text at column 4"),
        ("x0 x1", None, r"unexpected 'x1' at column 4"),
        ("x0 $ 2", None, r"unexpected character '\$' at column 4"),
        ("", None, "empty expression"),
        ("   ", None, "empty expression"),
        (
            "y + 1",
            ["a", "b"],
            r"unknown variable 'y' at column 1.*allowed variables: a, b",
        ),
        ("y", None, r"unknown variable 'y'.*x0, x1, x2, \.\.\."),
        ("x01", None, r"unknown variable 'x01'"),
        ("y", [], "no variables are allowed"),
        (
            "cosh(x0)",
            None,
            r"unknown function 'cosh' at column 1.*allowed functions: .*sqrt",
        ),
        ("sqrt(x0, x1)", None, r"function 'sqrt' takes 1 argument but got 2"),
        ("pow(x0)", None, r"function 'pow' takes 2 arguments but got 1"),
        ("sin()", None, r"function 'sin' takes 1 argument but got 0"),
        ("sqrt + 1", None, r"function 'sqrt' needs its arguments in parentheses"),
        ("__import__(os)", None, r"unknown function '__import__'"),
        ("x0 + 'a'", None, r"unexpected character \"'\" at column 6"),
    ],
)
def test_errors_show_position_and_allowed_names(text, names, message):
    with pytest.raises(ValueError, match=message):
        parse(text, names)


@pytest.mark.parametrize(
    ("names", "error"),
    [("x0", TypeError), (["a", "a"], ValueError), (["a", ""], ValueError)],
)
def test_bad_variable_names_are_rejected(names, error):
    with pytest.raises(error):
        parse("a", names)


def test_non_finite_constants_round_trip():
    nodes = program(float("inf"), "x0", "mul", float("nan"), "add", -np.inf, "sub")
    text = to_text(*nodes)
    assert text == "inf * x0 + nan - (-inf)"
    assert_same_program(parse(text), nodes)


def test_deep_nesting_is_a_value_error():
    with pytest.raises(ValueError, match="nests too deeply"):
        parse("(" * 5000 + "x0" + ")" * 5000)


def test_parsed_arrays_have_program_dtypes():
    opcodes, arguments, constants = parse("x0")
    assert opcodes.dtype == np.int64 and arguments.dtype == np.int64
    assert constants.dtype == np.float64 and constants.shape == (0,)


FEATURES = random_features(64, 3, seed=2)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=25))
def test_text_round_trip(program_arrays):
    text = to_text(*program_arrays)
    parsed = parse(text)
    assert_same_program(parsed, program_arrays)
    np.testing.assert_array_equal(
        evaluate_reference(*parsed, FEATURES),
        evaluate_reference(*program_arrays, FEATURES),
    )


ODD_NAMES = ["mass", "m.1", "E kin", "θ"]


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    programs(n_features=4, max_size=12),
    st.sampled_from([ODD_NAMES, ["pi", "inf", "ln", "x9"]]),
)
def test_text_round_trip_with_named_variables(program_arrays, names):
    text = to_text(*program_arrays, variable_names=names)
    assert_same_program(parse(text, names), program_arrays)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=12))
def test_rounded_text_stays_close(program_arrays):
    parsed = parse(to_text(*program_arrays, precision=12))
    np.testing.assert_allclose(parsed[2], program_arrays[2], rtol=1e-11)


x, y = sympy.symbols("x y")


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        (x / 2 + sympy.sin(y), "x / 2 + sin(y)"),
        (y - x, "y - x"),
        (-x - y, "-x - y"),
        (-x * y / 3, "-(x * y) / 3"),
        (-2.5 * x / y, "-2.5 * x / y"),
        (1 / x, "inv(x)"),
        (-1 / x, "-1 / x"),
        (y / x**2, "y / square(x)"),
        (x**3 + sympy.sqrt(y), "cube(x) + sqrt(y)"),
        (x**2.0, "square(x)"),
        (x ** sympy.Float(-0.5), "inv(sqrt(x))"),
        (x**y, "x ^ y"),
        (x ** sympy.Rational(3, 2), "x ^ 1.5"),
        (sympy.pi * x, "3.141592653589793 * x"),
        (sympy.sqrt(2) + x, "x + 1.4142135623730951"),
        (sympy.exp(-x), "exp(-x)"),
        (sympy.Abs(x) + sympy.log(y), "log(y) + abs(x)"),
        (sympy.Integer(3), "3"),
    ],
)
def test_from_sympy_known(expression, text):
    assert to_text(*from_sympy(expression, ["x", "y"]), ["x", "y"]) == text


def test_from_sympy_matches_symbols_by_name():
    real_x = sympy.Symbol("x", real=True, positive=True)
    assert from_sympy(real_x + 1, ["x"])[1].tolist() == [0, 0, 0]


def test_from_sympy_with_constant_symbols():
    original = program("x0", 2.5, "mul", 0.5, "add")
    expression, values = to_sympy(*original, constant_symbols=True)
    opcodes, arguments, constants = from_sympy(expression, ["x0"], values)
    np.testing.assert_allclose(
        evaluate_reference(opcodes, arguments, constants, FEATURES[:, :1]),
        evaluate_reference(*original, FEATURES[:, :1]),
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (x + sympy.Symbol("z"), "unknown variable 'z'.*allowed variables: x, y"),
        (sympy.cosh(x), "cannot convert the sympy function cosh; allowed"),
        (x + sympy.I, "not a real number"),
        (sympy.Eq(x, y), "cannot convert"),
    ],
)
def test_from_sympy_errors(expression, message):
    with pytest.raises(ValueError, match=message):
        from_sympy(expression, ["x", "y"])


def test_from_sympy_needs_variable_names():
    with pytest.raises(TypeError, match="needs variable_names"):
        from_sympy(x, None)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=15))
def test_sympy_round_trip_keeps_the_function(program_arrays):
    expression = to_sympy(*program_arrays)
    if expression.has(sympy.zoo, sympy.nan, sympy.I):
        return
    converted = from_sympy(expression, ["x0", "x1", "x2"])

    values = evaluate_reference(*converted, FEATURES)
    assert_matches_reference(
        values, *program_arrays, FEATURES, compare_non_finite=False
    )
