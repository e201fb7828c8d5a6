"""Units: parsing, the units matrix, and Buckingham pi on the Feynman equations.

The Feynman checks derive the true reduced function from the true formula:
each group is solved for a variable that only it uses, that variable is
replaced in ``y / prefactor``, and what is left must depend on the groups
alone.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd
import pint
import pytest
import sympy

from lawfinder.bench.feynman import Equation, load_equations
from lawfinder.printing import make_symbol
from lawfinder.priors.units import (
    GROUP_PREFIX,
    DimensionalReduction,
    dimensional_analysis,
    parse_units,
    units_matrix,
)

# The basis of the benchmark's units file.
FEYNMAN_BASIS = ["m", "s", "kg", "T", "V"]
EQUATIONS = {equation.name: equation for equation in load_equations()}


@cache
def feynman_units() -> pd.DataFrame:
    path = resources.files("lawfinder") / "data" / "feynman_units.csv"
    with resources.as_file(path) as file:
        return pd.read_csv(file).set_index("variable")


def units_of(name: str) -> list[float]:
    return feynman_units().loc[name, FEYNMAN_BASIS].astype(float).tolist()


def reduction_of(equation: Equation, units=None) -> DimensionalReduction:
    units = units or {}
    X_units = [units.get(name, units_of(name)) for name in equation.variables]
    y_units = units.get(equation.output, units_of(equation.output))
    D, d_y = units_matrix(X_units, y_units, n_features=len(equation.variables))
    return dimensional_analysis(D, d_y, equation.variables)


def exact_matrix(equation: Equation) -> tuple[sympy.Matrix, sympy.Matrix]:
    """The units of the benchmark file as exact integers, for exact checks."""
    D = sympy.Matrix([[int(e) for e in units_of(n)] for n in equation.variables]).T
    return D, sympy.Matrix([int(e) for e in units_of(equation.output)])


def true_reduced_function(equation, reduction, names):
    """``y / prefactor`` as a function of symbols named ``names``, one per group."""
    positive = {name: sympy.Symbol(name, positive=True) for name in equation.variables}
    symbols = equation.symbols()
    true = equation.to_sympy().xreplace(
        {symbols[name]: positive[name] for name in equation.variables}
    )
    variables = [positive[name] for name in equation.variables]
    prefactor = sympy.Mul(
        *[x**e for x, e in zip(variables, reduction.prefactor, strict=True)]
    )
    pis = [sympy.Symbol(name, positive=True) for name in names]

    replacements = {}
    for j, group in enumerate(reduction.groups):
        own = [
            i
            for i, e in enumerate(group)
            if e != 0
            and all(other[i] == 0 for other in reduction.groups if other is not group)
        ]
        assert own, f"group {j} of {equation.name} has no variable of its own"
        i = own[0]
        rest = sympy.Mul(
            *[variables[k] ** group[k] for k in range(len(group)) if k != i]
        )
        replacements[variables[i]] = (pis[j] / rest) ** (sympy.Integer(1) / group[i])
    reduced = sympy.simplify((true / prefactor).xreplace(replacements))
    assert reduced.free_symbols <= set(pis), (
        f"{equation.name}: y / prefactor = {reduced} is not a function of the groups"
    )
    return reduced, pis


# Parsing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kg*m/s^2", [1, -2, 1, 0, 0, 0, 0]),
        ("m", [1, 0, 0, 0, 0, 0, 0]),
        ("1", [0, 0, 0, 0, 0, 0, 0]),
        ("dimensionless", [0, 0, 0, 0, 0, 0, 0]),
        ("J", [2, -2, 1, 0, 0, 0, 0]),
        ("eV", [2, -2, 1, 0, 0, 0, 0]),
        ("V", [2, -3, 1, 0, -1, 0, 0]),
        ("K", [0, 0, 0, 1, 0, 0, 0]),
        ("mol/cd", [0, 0, 0, 0, 0, 1, -1]),
        ("m^(1/2)", [0.5, 0, 0, 0, 0, 0, 0]),
        ("Hz", [0, -1, 0, 0, 0, 0, 0]),
    ],
)
def test_parse_unit_names(text, expected):
    exponents = parse_units(text)
    assert exponents.dtype == np.float64
    np.testing.assert_array_equal(exponents, expected)


def test_parse_pint_objects():
    registry = pint.get_application_registry()
    np.testing.assert_array_equal(
        parse_units(registry.Unit("N")), [1, -2, 1, 0, 0, 0, 0]
    )
    np.testing.assert_array_equal(
        parse_units(registry.Quantity(3.0, "W")), [2, -3, 1, 0, 0, 0, 0]
    )


@pytest.mark.parametrize(
    "vector", [[1, -1, 0, 0, 0], (1.0, -1.0, 0.0, 0.0, 0.0), np.array([1, -1, 0, 0, 0])]
)
def test_parse_exponent_vectors(vector):
    exponents = parse_units(vector, dimensions=5)
    np.testing.assert_array_equal(exponents, [1, -1, 0, 0, 0])
    assert exponents.dtype == np.float64
    exponents[0] = 7.0
    assert np.asarray(vector)[0] == 1  # a copy, not a view of the input


@pytest.mark.parametrize(
    ("spec", "dimensions", "pattern"),
    [
        ("meter2", None, r"unknown unit 'meter2' in 'meter2'; .*m, s, kg, J, V"),
        ("kg*blorp", None, r"unknown unit 'blorp' in 'kg\*blorp'.*of exponents"),
        ("kg**", None, r"cannot read the units 'kg\*\*'.*pint unit names"),
        ("(m", None, r"cannot read the units '\(m'"),
        (3, None, r"a single number \(3\) is not units; give '1' for no units"),
        (["m", "s"], None, r"cannot read units from \['m', 's'\]"),
        ([[1, 0], [0, 1]], None, r"flat, non-empty sequence of numbers"),
        ([], None, r"flat, non-empty sequence of numbers"),
        ([1, 0, 0], 5, r"\[1.0, 0.0, 0.0\] has 3 entries; expected 5"),
        ([1, float("nan")], None, r"\[1.0, nan\] holds non-finite values"),
        ([1, float("inf")], 2, r"holds non-finite values; exponents must be finite"),
        ("m", 5, r"'m' gives exponents of pint's 7 base dimensions, but 5"),
        (None, None, r"no units given \(None\)"),
    ],
)
def test_parse_errors_name_the_value_and_what_is_allowed(spec, dimensions, pattern):
    with pytest.raises(ValueError, match=pattern):
        parse_units(spec, dimensions=dimensions)


# The units matrix --------------------------------------------------------------


def test_units_matrix_drops_unused_dimensions():
    D, d_y = units_matrix(["kg", "m/s^2", "1"], "N")
    np.testing.assert_array_equal(D, [[0, 1, 0], [0, -2, 0], [1, 0, 0]])
    np.testing.assert_array_equal(d_y, [1, -2, 1])


def test_units_matrix_keeps_a_dimension_only_the_target_has():
    D, d_y = units_matrix(["m", "m"], "m*K")
    np.testing.assert_array_equal(D, [[1, 1], [0, 0]])
    np.testing.assert_array_equal(d_y, [1, 1])


def test_units_matrix_of_exponent_vectors_in_their_own_basis():
    # Force = kg m / s^2 in the benchmark's basis (m, s, kg, K, V).
    D, d_y = units_matrix([units_of("m"), units_of("g")], units_of("F"), n_features=2)
    np.testing.assert_array_equal(D, [[0, 1], [0, -2], [1, 0]])
    np.testing.assert_array_equal(d_y, [1, -2, 1])


def test_units_matrix_mixes_names_with_seven_exponents():
    D, d_y = units_matrix(["m", [0, 1, 0, 0, 0, 0, 0]], "m/s")
    np.testing.assert_array_equal(D, [[1, 0], [0, 1]])
    np.testing.assert_array_equal(d_y, [1, -1])


def test_units_matrix_of_dimensionless_problem_has_no_rows():
    D, d_y = units_matrix(["1", "rad"], "dimensionless")
    assert D.shape == (0, 2)
    assert d_y.shape == (0,)


@pytest.mark.parametrize(
    ("X_units", "y_units", "n_features", "pattern"),
    [
        (["m", "s"], "m", 3, r"got 2 entries in X_units for 3 features"),
        ([], "m", None, r"X_units is empty"),
        ("m", "m", None, r"X_units must be a sequence .* got 'm'"),
        ({"a": "m"}, "m", None, r"X_units must be a sequence"),
        (["m", "parsec2"], "m", None, r"X_units\[1\]: unknown unit 'parsec2'"),
        (["m", "s"], "meter2", None, r"y_units: unknown unit 'meter2'"),
        ([[1, 0], [1, 0, 0]], [1, 0], None, r"X_units\[1\] has 3 exponents but "),
        (
            [[1, 0], [0, 1]],
            [1, 0, 0],
            None,
            r"y_units has 3 exponents but X_units\[0\]",
        ),
        (
            ["m", [1, 0, 0, 0, 0]],
            "m",
            None,
            r"X_units\[1\] is an exponent vector with 5 entries, but X_units\[0\] is "
            r"a unit name; mix unit names only with vectors of 7 exponents",
        ),
        ([[1, 0], [0, float("nan")]], [1, 0], None, r"X_units\[1\]: .*non-finite"),
    ],
)
def test_units_matrix_errors(X_units, y_units, n_features, pattern):
    with pytest.raises(ValueError, match=pattern):
        units_matrix(X_units, y_units, n_features=n_features)


# Choosing the prefactor and the groups ------------------------------------------


def exponents(values):
    return tuple(sympy.Rational(value) for value in values)


def test_same_units_give_ratios_to_the_scale_of_y():
    D, d_y = units_matrix(["m", "m", "m", "m"], "m")
    reduction = dimensional_analysis(D, d_y)
    assert reduction.prefactor == exponents([1, 0, 0, 0])
    assert reduction.groups == (
        exponents([-1, 1, 0, 0]),
        exponents([-1, 0, 1, 0]),
        exponents([-1, 0, 0, 1]),
    )
    assert reduction.describe() == "y = x0 * f(x1/x0, x2/x0, x3/x0)"


def test_prefactor_prefers_integer_exponents_to_fewer_variables():
    # sqrt(area) has one variable but a fractional power; speed * time has two.
    D, d_y = units_matrix(["m^2", "s", "m/s"], "m")
    reduction = dimensional_analysis(D, d_y)
    assert reduction.prefactor == exponents([0, 1, 1])
    assert reduction.describe() == "y = x1*x2 * f(x0/(x1**2*x2**2))"


def test_prefactor_prefers_fewer_variables():
    D, d_y = units_matrix(["m/s", "s", "m"], "m")
    reduction = dimensional_analysis(D, d_y)
    assert reduction.prefactor == exponents([0, 0, 1])
    assert reduction.groups == (exponents([1, 1, -1]),)


def test_fractional_prefactor_when_no_integer_one_exists():
    D, d_y = units_matrix(["m^2", "1"], "m")
    reduction = dimensional_analysis(D, d_y)
    assert reduction.prefactor == (sympy.Rational(1, 2), 0)
    assert reduction.groups == (exponents([0, 1]),)
    assert reduction.describe(["A", "n"], "L") == "L = sqrt(A) * f(n)"


def test_fractional_units_are_exact():
    # A noise density in m/sqrt(Hz) times the square root of a bandwidth.
    D, d_y = units_matrix(["m/Hz^0.5", "Hz"], "m")
    reduction = dimensional_analysis(D, d_y)
    assert reduction.prefactor == (1, sympy.Rational(1, 2))
    assert reduction.groups == ()
    D_exact = sympy.Matrix(D.shape[0], D.shape[1], [sympy.nsimplify(e) for e in D.flat])
    assert D_exact * sympy.Matrix(reduction.prefactor) == sympy.Matrix(
        [sympy.nsimplify(e) for e in d_y]
    )


def test_dimensionless_features_are_groups_of_their_own():
    D, d_y = units_matrix(["1", "m", "rad", "m"], "m^2")
    reduction = dimensional_analysis(D, d_y)
    assert reduction.prefactor == exponents([0, 2, 0, 0])
    assert set(reduction.groups) == {
        exponents([1, 0, 0, 0]),
        exponents([0, 0, 1, 0]),
        exponents([0, -1, 0, 1]),
    }


def test_no_units_at_all():
    reduction = dimensional_analysis(np.zeros((0, 2)), np.zeros(0))
    assert reduction.prefactor == (0, 0)
    assert reduction.groups == (exponents([1, 0]), exponents([0, 1]))
    assert reduction.describe() == "y = f(x0, x1)"


def test_units_of_y_that_x_cannot_make():
    D, d_y = units_matrix(["kg", "m"], "s")
    with pytest.raises(
        ValueError,
        match=r"the units of y, \[0, 1, 0\], cannot be made from the units of X "
        r"\(mass \[0, 0, 1\], height \[1, 0, 0\]\)",
    ):
        dimensional_analysis(D, d_y, ["mass", "height"])


@pytest.mark.parametrize(
    ("D", "d_y", "pattern"),
    [
        (np.ones(3), np.ones(3), r"D must have shape \(n_dimensions, n_features\)"),
        (np.ones((2, 3)), np.ones(3), r"d_y must have one exponent per row of D"),
        (np.ones((2, 0)), np.ones(2), r"D has no columns"),
        ([[0.1234567]], [1.0], r"0.1234567 is not a fraction"),
        ([[np.inf]], [1.0], r"exponents must be finite numbers"),
    ],
)
def test_dimensional_analysis_checks_its_input(D, d_y, pattern):
    with pytest.raises(ValueError, match=pattern):
        dimensional_analysis(D, d_y)


def test_many_features_stay_valid_past_the_search_limit():
    """Beyond the subset search, the basis comes from the row echelon form."""
    rng = np.random.default_rng(3)
    D = rng.integers(-2, 3, size=(5, 28))
    p = rng.integers(-1, 2, size=28)
    d_y = D @ p
    reduction = dimensional_analysis(D, d_y)
    check_exact_reduction(sympy.Matrix(D), sympy.Matrix(d_y), reduction)


def check_exact_reduction(D, d_y, reduction):
    """``D p = d_y``, ``D g = 0`` and the groups are a basis in small integers."""
    assert D * sympy.Matrix(reduction.prefactor) == d_y
    n_groups = D.cols - D.rank()
    assert reduction.n_groups == n_groups
    for group in reduction.groups:
        assert D * sympy.Matrix(group) == sympy.zeros(D.rows, 1)
        assert all(entry.is_integer for entry in group)
        assert sympy.igcd(*[int(entry) for entry in group]) == 1
    if n_groups:
        assert sympy.Matrix(reduction.groups).rank() == n_groups


# The Feynman equations ----------------------------------------------------------


def test_feynman_I_6_2_with_the_units_of_the_file_is_all_groups():
    """The file gives sigma, theta and f no units: nothing to factor out."""
    reduction = reduction_of(EQUATIONS["I.6.2"])
    assert reduction.prefactor == (0, 0)
    assert reduction.groups == (exponents([1, 0]), exponents([0, 1]))


def test_feynman_I_6_2_as_a_density_in_length():
    """A Gaussian density: theta and sigma in metres, f per metre."""
    metre, per_metre = [1, 0, 0, 0, 0], [-1, 0, 0, 0, 0]
    units = {"sigma": metre, "theta": metre, "f": per_metre}
    reduction = reduction_of(EQUATIONS["I.6.2"], units)
    assert reduction.prefactor == exponents([-1, 0])
    assert reduction.groups == (exponents([-1, 1]),)
    assert reduction.describe(["sigma", "theta"], "f") == "f = 1/sigma * f(theta/sigma)"
    check_round_trip(EQUATIONS["I.6.2"], reduction)


@pytest.mark.parametrize(
    ("name", "prefactor", "groups", "description"),
    [
        ("I.10.7", [1, 0, 0], [[0, 1, -1]], "m = m_0 * f(v/c)"),
        ("I.12.4", [1, -1, -2], [], "Ef = q1/(epsilon*r**2) * constant"),
        ("I.14.3", [1, 1, 1], [], "U = g*m*z * constant"),
        ("I.34.1", [0, 0, 1], [[1, -1, 0]], "omega = omega_0 * f(c/v)"),
        ("III.4.32", [0, 0, 0, 0], [[1, 1, -1, -1]], "n = f(h*omega/(T*kb))"),
    ],
)
def test_feynman_reductions(name, prefactor, groups, description):
    equation = EQUATIONS[name]
    reduction = reduction_of(equation)
    assert reduction.prefactor == exponents(prefactor)
    assert reduction.groups == tuple(exponents(group) for group in groups)
    assert reduction.describe(equation.variables, equation.output) == description


@pytest.mark.parametrize("name", list(EQUATIONS))
def test_feynman_reductions_are_exact(name):
    equation = EQUATIONS[name]
    check_exact_reduction(*exact_matrix(equation), reduction_of(equation))


@pytest.mark.parametrize("name", list(EQUATIONS))
def test_feynman_round_trip(name):
    """transform, the true reduced function and expand give back y."""
    equation = EQUATIONS[name]
    check_round_trip(equation, reduction_of(equation))


def check_round_trip(equation, reduction):
    X, y = equation.sample(200, np.random.default_rng(0))
    X_groups, y_reduced = reduction.transform(X, y)
    assert X_groups.shape == (200, reduction.n_groups)

    names = reduction.group_names(equation.variables)
    reduced, pis = true_reduced_function(equation, reduction, names)
    f = sympy.lambdify(pis, reduced, "numpy")
    np.testing.assert_allclose(f(*X_groups.T) * np.ones(len(y)), y_reduced, rtol=1e-9)

    model = reduction.expand(reduced, equation.variables)
    assert {symbol.name for symbol in model.free_symbols} <= set(equation.variables)
    variables = [make_symbol(name) for name in equation.variables]
    predict = sympy.lambdify(variables, model, "numpy")
    np.testing.assert_allclose(predict(*X.T) * np.ones(len(y)), y, rtol=1e-9)


@pytest.mark.parametrize("name", ["I.9.18", "I.40.1", "II.11.27", "III.4.33"])
def test_groups_do_not_change_when_the_units_do(name):
    """The law evaluated in other units (each base dimension rescaled) gives
    the same groups and the same y / prefactor."""
    equation = EQUATIONS[name]
    reduction = reduction_of(equation)
    D, d_y = (np.array(m, dtype=float) for m in exact_matrix(equation))
    X, y = equation.sample(50, np.random.default_rng(1))
    factors = np.array([2.0, 0.5, 3.0, 1.7, 0.8])
    X_scaled = X * np.prod(factors[:, None] ** D, axis=0)
    symbols = equation.symbols()
    law = sympy.lambdify(
        [symbols[variable] for variable in equation.variables],
        equation.to_sympy(),
        "numpy",
    )
    y_scaled = law(*X_scaled.T)

    groups, reduced = reduction.transform(X, y)
    groups_scaled, reduced_scaled = reduction.transform(X_scaled, y_scaled)
    np.testing.assert_allclose(groups_scaled, groups, rtol=1e-12)
    np.testing.assert_allclose(reduced_scaled, reduced, rtol=1e-12)
    assert not np.allclose(X_scaled, X)


# The reduction object -----------------------------------------------------------


def relativistic_mass() -> DimensionalReduction:
    return reduction_of(EQUATIONS["I.10.7"])


def test_group_names_avoid_variable_names():
    reduction = relativistic_mass()
    assert reduction.group_names() == [f"{GROUP_PREFIX}0"]
    assert reduction.group_names(["pi0", "v", "c"]) == ["pi_0"]
    assert reduction.group_names(["pi0", "pi_0", "c"]) == ["pi__0"]


def test_expand_uses_the_library_symbols():
    reduction = relativistic_mass()
    pi0 = sympy.Symbol("pi0")  # any assumptions: matched by name
    model = reduction.expand(1 / sympy.sqrt(1 - pi0**2), ["m_0", "v", "c"])
    m_0, v, c = (make_symbol(name) for name in ["m_0", "v", "c"])
    assert sympy.simplify(model - m_0 / sympy.sqrt(1 - v**2 / c**2)) == 0
    assert model.free_symbols == {m_0, v, c}


def test_expand_keeps_other_symbols_and_takes_numbers():
    reduction = relativistic_mass()
    k = sympy.Symbol("k")
    model = reduction.expand(k * sympy.Symbol("pi0"))
    x0, x1, x2 = (make_symbol(f"x{i}") for i in range(3))
    assert model == k * x0 * x1 / x2
    m, g, z = (make_symbol(name) for name in ["m", "g", "z"])
    no_groups = reduction_of(EQUATIONS["I.14.3"])
    assert no_groups.expand(0.5, ["m", "g", "z"]) == 0.5 * m * g * z


def test_expand_rejects_text():
    with pytest.raises(TypeError, match="sympy expression or a number, got str"):
        relativistic_mass().expand("pi0")


def test_variable_names_must_match_the_features():
    with pytest.raises(ValueError, match="got 2 variable names for 3 features"):
        relativistic_mass().describe(["v", "c"])


@pytest.mark.parametrize(
    ("X", "pattern"),
    [
        ([[1.0, -2.0]], r"column 1 of X to the power -1/2, which needs positive"),
        ([[1.0, 0.0]], r"column 1 of X to the power -1/2, .* row 0 holds 0.0"),
        ([[0.0, 4.0]], r"column 0 of X to the power -1, which needs non-zero values"),
    ],
)
def test_transform_refuses_powers_without_a_real_value(X, pattern):
    # y = sqrt(x1) * f(), x0 divides: both checks are reachable.
    reduction = DimensionalReduction((0, sympy.Rational(1, 2)), ((-1, 0),))
    with pytest.raises(ValueError, match=pattern):
        reduction.transform(X, [1.0])


def test_transform_refuses_division_by_a_zero_prefactor():
    reduction = DimensionalReduction((1, 0), ((0, 1),))
    with pytest.raises(ValueError, match=r"dividing by the prefactor .* power -1"):
        reduction.transform([[0.0, 1.0]], [1.0])
    np.testing.assert_array_equal(reduction.evaluate_prefactor([[0.0, 1.0]]), [0.0])


def test_transform_with_negative_values_and_integer_powers():
    reduction = DimensionalReduction((2, 0), ((-1, 1),))
    X_groups, y_reduced = reduction.transform([[-2.0, 6.0]], [8.0])
    np.testing.assert_array_equal(X_groups, [[-3.0]])
    np.testing.assert_array_equal(y_reduced, [2.0])


def test_transform_checks_shapes():
    reduction = relativistic_mass()
    with pytest.raises(ValueError, match=r"X must have shape \(n_rows, 3\)"):
        reduction.transform(np.ones((4, 2)), np.ones(4))
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        reduction.transform(np.ones((4, 3)), np.ones(5))


def test_reduction_is_frozen_and_exact():
    reduction = DimensionalReduction((1, 0.5), ((2, -1),))
    assert reduction.prefactor == (1, sympy.Rational(1, 2))
    assert all(isinstance(e, sympy.Rational) for e in reduction.prefactor)
    np.testing.assert_array_equal(reduction.prefactor_exponents, [1.0, 0.5])
    np.testing.assert_array_equal(reduction.group_exponents, [[2.0, -1.0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        reduction.prefactor = (0, 0)
    with pytest.raises(ValueError, match="group 0 has 1 exponents but the prefactor"):
        DimensionalReduction((1, 0), ((1,),))
