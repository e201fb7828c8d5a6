"""The priors around the search, through the estimator: units, brute force,
snapping and the switch that turns them off."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from lawfinder import SymbolicRegressor
from lawfinder.bench.feynman import is_symbolic_solution

SMALL = dict(populations=4, population_size=16, niterations=3, random_state=0)


def relativistic(n_rows=400, seed=0):
    rng = np.random.default_rng(seed)
    m = rng.uniform(1, 5, n_rows)
    v = rng.uniform(1, 2, n_rows)
    c = rng.uniform(3, 10, n_rows)
    return np.column_stack([m, v, c]), m / np.sqrt(1 - v**2 / c**2)


def is_law(model, truth) -> bool:
    """The SRBench test: equal up to an additive or multiplicative constant."""
    return is_symbolic_solution(model.sympy(), truth, timeout=60) is True


def test_units_reduce_the_problem_to_one_group_and_the_law_is_found():
    X, y = relativistic()
    m, v, c = sympy.symbols("m v c", positive=True)

    model = SymbolicRegressor(**SMALL).fit(
        X,
        y,
        variable_names=["m", "v", "c"],
        X_units=["kg", "m/s", "m/s"],
        y_units="kg",
    )

    assert "units: y = m * f(v/c)" in model.findings_  # y is an array
    assert is_law(model, m / sympy.sqrt(1 - v**2 / c**2))
    assert model.equations_["loss"].iloc[model.best_index_] < 1e-20


def test_brute_force_finds_a_law_of_one_variable_and_stops_evolution():
    x = np.linspace(0.5, 3.0, 200)
    y = np.exp(-x) / x

    model = SymbolicRegressor(
        niterations=1000, strategies=["brute_force"], random_state=0
    ).fit(x.reshape(-1, 1), y)

    assert any(text.startswith("brute force:") for text in model.findings_)
    assert model.search_result_.stopped_by == "exact fit (brute force)"
    assert model.search_result_.n_iterations < 1000
    np.testing.assert_allclose(model.predict(x.reshape(-1, 1)), y, rtol=1e-9)


def test_constants_are_snapped_to_simple_values():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 5, (300, 2))
    y = X[:, 0] * X[:, 1] / (2 * np.pi)

    model = SymbolicRegressor(**SMALL).fit(X, y)

    constants = model.best_.constants
    assert len(constants) == 1
    # Written as a product with 1/(2 pi) or a quotient by 2 pi, exactly.
    assert constants[0] in (1 / (2 * np.pi), 2 * np.pi)
    assert any("snapped" in text for text in model.findings_)


def test_no_strategies_means_plain_evolution():
    X, y = relativistic(seed=1)
    model = SymbolicRegressor(strategies=[], **SMALL).fit(
        X, y, X_units=["kg", "m/s", "m/s"], y_units="kg"
    )
    assert model.findings_ == []
    assert model.search_result_.stopped_by == "niterations"


@pytest.mark.parametrize(
    "units, message",
    [
        ((["kg", "m/s", "m/s"], None), "give both X_units and y_units"),
        ((["kg", "m/s", "m/s"], "s"), "cannot be made from the units of X"),
        ((["kg", "m/s", "parsec_light"], "kg"), "unknown unit"),
        ((["kg", "m/s"], "kg"), "2 entries in X_units for 3 features"),
    ],
)
def test_bad_units_are_clear_errors(units, message):
    X, y = relativistic(n_rows=20)
    with pytest.raises(ValueError, match=message):
        SymbolicRegressor(**SMALL).fit(X, y, X_units=units[0], y_units=units[1])


def test_unknown_strategy_is_a_clear_error():
    X, y = relativistic(n_rows=20)
    with pytest.raises(ValueError, match="unknown strategies \\['symmetry'\\]"):
        SymbolicRegressor(strategies=["symmetry"], **SMALL).fit(X, y)


def test_an_additive_separation_is_solved_in_parts_and_recombined():
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 3, (600, 3))
    y = X[:, 0] * X[:, 1] + 2.5 * np.exp(-X[:, 2])

    model = SymbolicRegressor(**SMALL).fit(X, y)

    assert any(
        text.startswith("structure: additively separable: f = g(x0, x1) + h(x2)")
        for text in model.findings_
    )
    assert model.equations_["loss"].iloc[model.best_index_] < 1e-20
    x0, x1, x2 = sympy.symbols("x0 x1 x2", positive=True)
    assert is_law(model, x0 * x1 + sympy.Rational(5, 2) * sympy.exp(-x2))


def test_a_symmetry_replaces_two_variables_by_one():
    rng = np.random.default_rng(1)
    X = rng.uniform(1, 3, (600, 3))
    y = np.sin(X[:, 0] - X[:, 1]) * X[:, 2]

    model = SymbolicRegressor(**SMALL).fit(X, y)

    assert any("only through x0 - x1" in text for text in model.findings_)
    assert model.equations_["loss"].iloc[model.best_index_] < 1e-20


def _share_consistent(unit_penalty: float, strategies) -> float:
    from lawfinder.priors.units import count_unit_violations, units_matrix

    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 3.0, size=(200, 3))
    y = X[:, 0] * X[:, 1] * (1.0 + 0.3 * np.sin(3.0 * X[:, 2]))
    units = ["kg", "m/s^2", "m"], "N"
    model = SymbolicRegressor(
        unit_penalty=unit_penalty, strategies=strategies, simplify=False, **SMALL
    ).fit(X, y, X_units=units[0], y_units=units[1])
    D, d_y = units_matrix(*units, 3)
    entries = model.search_result_.hall_of_fame
    return np.mean(
        [count_unit_violations(e.opcodes, e.arguments, D.T, d_y) == 0 for e in entries]
    )


def test_without_the_reduction_units_still_guide_the_search():
    # strategies=[] leaves out dimensional analysis; the penalty still applies.
    assert _share_consistent(1.0, []) > _share_consistent(0.0, [])


def test_a_transform_of_y_makes_the_law_small_enough_to_enumerate():
    # 1/y is a program of six nodes; y itself needs eight, past what brute
    # force enumerates without a timeout.
    x = np.linspace(1.2, 3.0, 300)
    y = 1.0 / (np.sin(x) + np.log(x)) ** 2
    X = x.reshape(-1, 1)

    model = SymbolicRegressor(**SMALL).fit(X, y)

    assert "transforms: exact at complexity" in " ".join(model.findings_)
    assert model.search_result_.stopped_by == "exact fit (transform)"
    np.testing.assert_allclose(model.predict(X), y, rtol=1e-9)

    without = SymbolicRegressor(
        strategies=["brute_force", "structure", "snap"], **SMALL
    ).fit(X, y)
    assert not any(text.startswith("transform") for text in without.findings_)
