"""Structure tests on surrogates of known functions: separations, symmetries,
the sub-problems they make, and transforms of the target."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sympy

from lawfinder.bench.feynman import load_equations
from lawfinder.priors.structure import (
    Separation,
    SurrogateAccuracyWarning,
    Symmetry,
    _splits,
    additive_separations,
    fit_surrogate,
    multiplicative_separations,
    polynomial_error,
    separation_data,
    symmetries,
    symmetry_data,
    transforms,
)

N_ROWS = 800


def sample(function, lows, highs, n_rows=N_ROWS, seed=0):
    """Uniform rows in the box [lows, highs] and the function on them."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(lows, highs, size=(n_rows, len(lows)))
    return X, function(X)


def product_plus(X):
    return X[:, 0] * X[:, 1] + X[:, 2]


def product_decay(X):
    return X[:, 0] * np.exp(-X[:, 1]) * X[:, 2]


def wave(X):
    return np.sin(X[:, 0] - X[:, 1]) * X[:, 2]


def ratio_plus(X):
    return X[:, 0] / X[:, 1] + X[:, 2]


def entangled(X):
    return np.exp(X[:, 0] * X[:, 1]) + X[:, 2] * X[:, 0]


# Each function with its sampling box; fitted once per test module.
CASES = {
    "product_plus": (product_plus, [1, 1, 1], [3, 3, 3]),
    "product_decay": (product_decay, [1, 0, 1], [3, 2, 3]),
    "wave": (wave, [0, 0, 1], [3, 3, 3]),
    "ratio_plus": (ratio_plus, [1, 1, 1], [3, 3, 3]),
    "entangled": (entangled, [0, 0, 0], [1.5, 1.5, 1.5]),
}


@pytest.fixture(scope="module")
def fitted():
    """Data and surrogate of each case, keyed by name."""
    cases = {}
    for name, (function, lows, highs) in CASES.items():
        X, y = sample(function, lows, highs)
        cases[name] = (X, y, fit_surrogate(X, y, random_state=0))
    return cases


def splits_of(separations):
    return {(separation.first, separation.second) for separation in separations}


def structures_of(found):
    return {(symmetry.kind, symmetry.pair) for symmetry in found}


def test_surrogate_interpolates_a_smooth_function(fitted):
    X, y, surrogate = fitted["product_decay"]
    fresh, exact = sample(product_decay, [1, 0, 1], [3, 2, 3], n_rows=300, seed=1)

    assert surrogate.r2 > 0.99999
    assert surrogate.relative_error < 1e-3
    error = np.sqrt(np.mean((surrogate.predict(fresh) - exact) ** 2)) / np.std(y)
    assert error < 1e-3


def test_surrogate_gradient_matches_the_exact_gradient(fitted):
    X, y, surrogate = fitted["product_decay"]
    x0, x1, x2 = X[:200].T
    decay = np.exp(-x1)
    exact = np.column_stack([decay * x2, -x0 * decay * x2, x0 * decay])

    gradient = surrogate.gradient(X[:200])

    assert gradient.shape == (200, 3)
    scale = np.sqrt(np.mean(exact**2, axis=0))
    assert np.all(np.sqrt(np.mean((gradient - exact) ** 2, axis=0)) < 1e-2 * scale)


def test_surrogate_is_deterministic_given_random_state():
    X, y = sample(product_plus, [1, 1, 1], [3, 3, 3], n_rows=200)
    first = fit_surrogate(X, y, random_state=3)
    second = fit_surrogate(X, y, random_state=3)
    other = fit_surrogate(X, y, random_state=4)

    assert np.array_equal(first.predict(X), second.predict(X))
    assert first.r2 == second.r2
    assert not np.array_equal(first.predict(X), other.predict(X))


def test_fit_surrogate_rejects_unusable_data():
    X, y = sample(product_plus, [1, 1, 1], [3, 3, 3], n_rows=100)
    with pytest.raises(ValueError, match="constant"):
        fit_surrogate(X, np.full(100, 2.0))
    with pytest.raises(ValueError, match="finite"):
        fit_surrogate(X, np.where(np.arange(100) == 5, np.nan, y))
    with pytest.raises(ValueError, match="at least"):
        fit_surrogate(X[:10], y[:10])
    with pytest.raises(ValueError, match="as many rows"):
        fit_surrogate(X, y[:50])


def test_additive_split_is_found_and_no_other(fitted):
    X, y, surrogate = fitted["product_plus"]

    found = additive_separations(surrogate, X, random_state=0)

    assert splits_of(found) == {((0, 1), (2,))}
    assert found[0].error < 1e-4
    assert multiplicative_separations(surrogate, X, random_state=0) == []


def test_multiplicative_splits_are_found_and_no_additive_one(fitted):
    X, y, surrogate = fitted["product_decay"]

    found = multiplicative_separations(surrogate, X, random_state=0)

    # Fully separable: every split into two groups holds.
    assert splits_of(found) == {((0,), (1, 2)), ((0, 1), (2,)), ((0, 2), (1,))}
    assert all(separation.error < 1e-4 for separation in found)
    assert [s.error for s in found] == sorted(s.error for s in found)
    assert additive_separations(surrogate, X, random_state=0) == []


def test_the_tolerance_follows_a_less_accurate_surrogate():
    # From 80 rows the surrogate errs ~6e-3: true splits err more than the
    # 1e-3 threshold, and pass on the surrogate's error instead.
    X, y = sample(product_decay, [1, 0, 1], [3, 2, 3], n_rows=80)
    surrogate = fit_surrogate(X, y, random_state=0)

    found = multiplicative_separations(surrogate, X, random_state=0)
    strict = multiplicative_separations(
        surrogate, X, surrogate_factor=0.0, random_state=0
    )

    assert 1e-3 < surrogate.relative_error < 1e-2
    assert splits_of(found) == {((0,), (1, 2)), ((0, 1), (2,)), ((0, 2), (1,))}
    assert strict == []
    assert additive_separations(surrogate, X, random_state=0) == []


def test_an_entangled_function_has_no_separation(fitted):
    X, y, surrogate = fitted["entangled"]

    assert additive_separations(surrogate, X, random_state=0) == []
    assert multiplicative_separations(surrogate, X, random_state=0) == []
    assert symmetries(surrogate, X, random_state=0) == []


def test_a_target_that_crosses_zero_is_not_tested_for_products(fitted):
    X, y, surrogate = fitted["wave"]
    assert y.min() < 0 < y.max()
    assert multiplicative_separations(surrogate, X, random_state=0) == []


def test_a_negative_target_separates_multiplicatively():
    X, y = sample(lambda X: -product_decay(X), [1, 0, 1], [3, 2, 3], n_rows=400)
    surrogate = fit_surrogate(X, y, random_state=0)

    found = multiplicative_separations(surrogate, X, random_state=0)

    assert splits_of(found) == {((0,), (1, 2)), ((0, 1), (2,)), ((0, 2), (1,))}


def test_difference_symmetry_and_no_other(fitted):
    X, y, surrogate = fitted["wave"]

    found = symmetries(surrogate, X, random_state=0)

    assert structures_of(found) == {("difference", (0, 1))}
    assert found[0].error < 2e-3


def test_ratio_symmetry_and_no_other(fitted):
    X, y, surrogate = fitted["ratio_plus"]

    found = symmetries(surrogate, X, random_state=0)

    assert structures_of(found) == {("ratio", (0, 1))}
    assert found[0].error < 2e-3


def test_sum_and_product_symmetries():
    X, y = sample(
        lambda X: np.log(X[:, 0] + X[:, 1]) * np.sqrt(X[:, 2] * X[:, 3]),
        [1, 1, 1, 1],
        [3, 3, 3, 3],
        n_rows=600,
    )
    surrogate = fit_surrogate(X, y, random_state=0)

    found = symmetries(surrogate, X, random_state=0)

    assert structures_of(found) == {("sum", (0, 1)), ("product", (2, 3))}


def test_a_pair_f_ignores_is_never_tested():
    X, y = sample(lambda X: X[:, 0] * X[:, 1], [1, 1, 1, 1], [3, 3, 3, 3], n_rows=500)
    surrogate = fit_surrogate(X, y, random_state=0)

    found = symmetries(surrogate, X, random_state=0)
    # Every error is at most 1: only the skipped pair escapes this threshold.
    everything = symmetries(surrogate, X, threshold=1.0, random_state=0)

    assert structures_of(found) == {("product", (0, 1))}
    assert {symmetry.pair for symmetry in everything} == {
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
    }


def test_ratio_divides_by_the_variable_that_keeps_its_sign():
    X, y = sample(
        lambda X: np.sin(X[:, 1] / X[:, 0]), [1, -2], [3, 2], n_rows=500, seed=2
    )
    surrogate = fit_surrogate(X, y, random_state=0)

    found = symmetries(surrogate, X, kinds=["ratio"], random_state=0)

    assert structures_of(found) == {("ratio", (1, 0))}
    assert np.allclose(found[0].variable(X), X[:, 1] / X[:, 0])


def test_symmetries_reject_an_unknown_kind(fitted):
    X, y, surrogate = fitted["wave"]
    with pytest.raises(ValueError, match="quotient"):
        symmetries(surrogate, X, kinds=["quotient"])


def test_the_reference_point_is_the_row_nearest_the_median(fitted):
    X, y, surrogate = fitted["product_plus"]
    (separation,) = additive_separations(surrogate, X, random_state=0)

    distance = np.sum(((X - np.median(X, axis=0)) / X.std(axis=0)) ** 2, axis=1)
    assert separation.reference == tuple(X[np.argmin(distance)])
    assert separation.reference_value == pytest.approx(
        product_plus(X[[np.argmin(distance)]])[0], rel=1e-6
    )


def test_additive_sub_problems_recombine_to_the_data(fitted):
    X, y, surrogate = fitted["product_plus"]
    (separation,) = additive_separations(surrogate, X, random_state=0)

    data = separation_data(separation, surrogate, X)

    a0, a1, b0 = separation.reference
    assert data.X_first.shape == (N_ROWS, 2) and data.X_second.shape == (N_ROWS, 1)
    tolerance = 10 * surrogate.relative_error * np.std(y)
    exact_first = X[:, 0] * X[:, 1] + b0
    exact_second = a0 * a1 + X[:, 2]
    assert np.max(np.abs(data.y_first - exact_first)) < tolerance
    assert np.max(np.abs(data.y_second - exact_second)) < tolerance
    assert abs(data.constant - (a0 * a1 + b0)) < tolerance
    recombined = data.combine(data.y_first, data.y_second)
    assert np.sqrt(
        np.mean((recombined - y) ** 2)
    ) < 3 * surrogate.relative_error * np.std(y)


def test_multiplicative_sub_problems_recombine_to_the_data(fitted):
    X, y, surrogate = fitted["product_decay"]
    found = multiplicative_separations(surrogate, X, random_state=0)

    for separation in found:
        data = separation_data(separation, surrogate, X)
        recombined = data.combine(data.y_first, data.y_second)
        error = np.sqrt(np.mean((recombined - y) ** 2)) / np.std(y)
        assert error < 5 * surrogate.relative_error


def test_sub_problems_keep_measured_values_held_at_the_reference():
    # A grid: every value of x1 repeats, so rows with x1 at the reference
    # value are measurements of g itself.
    grid = np.linspace(1.0, 3.0, 15)
    X = np.array([(a, b) for a in grid for b in grid])
    y = X[:, 0] ** 2 * X[:, 1] + np.sin(X[:, 0])
    surrogate = fit_surrogate(X, y, random_state=0)
    separation = Separation("additive", (0,), (1,), 0.0, tuple(X[112]), float(y[112]))

    data = separation_data(separation, surrogate, X, y)

    at_reference = X[:, 1] == X[112, 1]
    assert at_reference.sum() == 15
    assert np.array_equal(data.y_first[at_reference], y[at_reference])
    assert not np.array_equal(data.y_first[~at_reference], y[~at_reference])


def test_symmetry_data_replaces_the_pair_by_the_new_variable():
    X = np.array([[3.0, 1.0, 5.0, 7.0], [4.0, 2.0, 6.0, 8.0]])

    assert np.array_equal(
        symmetry_data(Symmetry("difference", (0, 2), 0.0), X),
        np.column_stack([X[:, 0] - X[:, 2], X[:, 1], X[:, 3]]),
    )
    assert np.array_equal(
        symmetry_data(Symmetry("ratio", (3, 1), 0.0), X),
        np.column_stack([X[:, 0], X[:, 2], X[:, 3] / X[:, 1]]),
    )


def test_symmetry_data_keeps_f_as_a_function_of_the_new_columns(fitted):
    X, y, surrogate = fitted["wave"]
    (symmetry,) = symmetries(surrogate, X, random_state=0)

    reduced = symmetry_data(symmetry, X)

    assert np.allclose(np.sin(reduced[:, 0]) * reduced[:, 1], y)


def moved_along_level_set(symmetry, X):
    """Rows moved so that the symmetry's new variable keeps its value."""
    i, j = symmetry.pair
    moved = X.copy()
    if symmetry.kind == "difference":
        moved[:, [i, j]] += 0.1
    elif symmetry.kind == "sum":
        moved[:, i] += 0.1
        moved[:, j] -= 0.1
    elif symmetry.kind == "product":
        moved[:, i] *= 1.1
        moved[:, j] /= 1.1
    else:
        moved[:, [i, j]] *= 1.1
    return moved


# Structure each law must show: splits by their first group, symmetries by pair.
FEYNMAN_STRUCTURE = {
    # m g z: every split and every pair.
    "I.14.3": {
        ("multiplicative", (0,)),
        ("multiplicative", (0, 1)),
        ("multiplicative", (0, 2)),
        ("product", (0, 1)),
        ("product", (0, 2)),
        ("product", (1, 2)),
    },
    # m_0 / sqrt(1 - v**2 / c**2).
    "I.10.7": {("multiplicative", (0,)), ("ratio", (1, 2))},
    # 1 / (1/d1 + n/d2).
    "I.27.6": {("ratio", (1, 2))},
}


@pytest.mark.parametrize("name", sorted(FEYNMAN_STRUCTURE))
def test_structure_of_feynman_laws_is_found_and_holds_exactly(name):
    (equation,) = [e for e in load_equations() if e.name == name]
    X, y = equation.sample(600, np.random.default_rng(0))
    symbols = [equation.symbols()[variable] for variable in equation.variables]
    law = sympy.lambdify(symbols, equation.to_sympy(), "numpy")
    surrogate = fit_surrogate(X, y, random_state=0)

    separations = additive_separations(surrogate, X, random_state=0)
    separations += multiplicative_separations(surrogate, X, random_state=0)
    found = symmetries(surrogate, X, random_state=0)

    reported = {(separation.kind, separation.first) for separation in separations}
    assert reported | structures_of(found) == FEYNMAN_STRUCTURE[name]
    for separation in separations:
        data = separation_data(separation, surrogate, X)
        recombined = data.combine(data.y_first, data.y_second)
        assert np.sqrt(np.mean((recombined - y) ** 2)) < 1e-2 * np.std(y)
    for symmetry in found:
        moved = moved_along_level_set(symmetry, X)
        assert np.allclose(law(*moved.T), y, rtol=1e-12)


def test_a_poor_surrogate_warns():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 3))
    surrogate = fit_surrogate(X, rng.normal(size=200), random_state=0)

    assert surrogate.r2 < 0.5
    with pytest.warns(SurrogateAccuracyWarning, match="more rows"):
        additive_separations(surrogate, X, random_state=0)
    with pytest.warns(SurrogateAccuracyWarning):
        symmetries(surrogate, X, random_state=0)


def test_an_accurate_surrogate_does_not_warn(fitted):
    X, y, surrogate = fitted["product_plus"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        additive_separations(surrogate, X, random_state=0)
        symmetries(surrogate, X, random_state=0)


@pytest.mark.parametrize(
    "n_features, exhaustive_up_to, count",
    [(3, 6, 3), (6, 6, 31), (6, 5, 21), (9, 6, 45)],
)
def test_splits_partition_the_variables(n_features, exhaustive_up_to, count):
    splits = _splits(n_features, exhaustive_up_to)

    assert len(splits) == len(set(splits)) == count
    for first, second in splits:
        assert 0 in first and second
        assert sorted(first + second) == list(range(n_features))


def test_describe_reads_as_a_log_line():
    additive = Separation("additive", (0, 1), (2,), 2.1e-6, (1.0, 2.0, 3.0), 5.0)
    product = Separation("multiplicative", (0,), (1, 2), 0.01, (1.0, 2.0, 3.0), 5.0)
    ratio = Symmetry("ratio", (0, 2), 3e-5)

    assert additive.describe() == (
        "additively separable: f = g(x0, x1) + h(x2) (error 2.1e-06)"
    )
    assert product.describe(["m", "v", "r"]) == (
        "multiplicatively separable: f = g(m) * h(v, r) (error 0.01)"
    )
    assert ratio.describe(["q", "r", "d"]) == (
        "symmetric: f depends on q and d only through q / d (error 3e-05)"
    )
    assert transforms(np.array([1.0, 2.0]))[2].describe() == (
        "transform: fit g = log(y), then y = exp(g)"
    )


@pytest.mark.parametrize(
    "y, names",
    [
        ([0.5, 1.0, 2.0], ["square", "sqrt", "log", "exp", "inverse"]),
        ([0.0, 1.0, 2.0], ["square", "sqrt", "exp"]),
        ([-1.0, 0.0, 2.0], ["exp"]),
        ([-2.0, -1.0], ["exp", "inverse"]),
        ([1.0, 800.0], ["square", "sqrt", "log", "inverse"]),
    ],
)
def test_transforms_are_offered_only_where_valid(y, names):
    y = np.array(y)
    offered = transforms(y)

    assert [transform.name for transform in offered] == names
    for transform in offered:
        assert np.all(np.isfinite(transform.function(y)))
        assert np.allclose(transform.inverse(transform.function(y)), y)


@pytest.mark.parametrize(
    "function, best",
    [
        (lambda X: np.exp(X[:, 0] + 2 * X[:, 1]), "log"),
        (lambda X: np.sqrt(1 + X[:, 0] ** 2 + X[:, 1] ** 2), "square"),
        (lambda X: 1 / (X[:, 0] + X[:, 1]), "inverse"),
        (lambda X: (X[:, 0] + X[:, 1]) ** 4, "sqrt"),
    ],
)
def test_transforms_rank_the_simplifying_one_first(function, best):
    X, y = sample(function, [1, 1], [3, 3], n_rows=300)

    offered = transforms(y, X)

    assert offered[0].name == best
    assert offered[0].error < 1e-8
    assert polynomial_error(X, y) > 1e-4
    assert [t.error for t in offered] == sorted(t.error for t in offered)


def test_polynomial_error_matches_a_plain_least_squares_fit():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.cos(3 * X[:, 0]) + X[:, 1]
    x0, x1 = X.T
    design = np.column_stack([np.ones(200), x0, x1, x0**2, x0 * x1, x1**2])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    expected = np.sqrt(np.mean((y - design @ coefficients) ** 2)) / np.std(y)

    assert polynomial_error(X, y) == pytest.approx(expected, rel=1e-8)
