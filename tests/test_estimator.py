"""The scikit-learn estimator, end to end on small searches with fixed seeds."""

from __future__ import annotations

import importlib.metadata

import numpy as np
import pandas as pd
import pytest
import sympy
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

import lawfinder
from lawfinder import Expression, SymbolicRegressor
from lawfinder.estimator import EQUATION_COLUMNS

# Small enough to run in well under a second once the kernels are compiled.
FAST = dict(niterations=5, populations=4, population_size=32, maxsize=12)


def names_in(expression):
    return {symbol.name for symbol in expression.free_symbols}


@pytest.fixture(scope="module")
def law_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, size=(100, 2))
    return X, 2.5 * X[:, 0] * X[:, 1]


@pytest.fixture(scope="module")
def fitted(law_data):
    X, y = law_data
    return SymbolicRegressor(random_state=0, **FAST).fit(X, y)


def test_package_exports_the_public_api():
    assert lawfinder.SymbolicRegressor is SymbolicRegressor
    assert lawfinder.Expression is Expression
    assert lawfinder.__version__ == importlib.metadata.version("lawfinder")
    assert {"SymbolicRegressor", "Expression"} <= set(dir(lawfinder))


def test_fit_recovers_a_product_law(fitted, law_data):
    X, y = law_data

    found = sympy.nsimplify(fitted.sympy(), tolerance=1e-8, rational=True)

    x0, x1 = sorted(found.free_symbols, key=str)
    assert str(x0) == "x0" and str(x1) == "x1"
    assert sympy.simplify(found - sympy.Rational(5, 2) * x0 * x1) == 0
    np.testing.assert_allclose(fitted.predict(X), y, rtol=1e-10)
    assert fitted.score(X, y) > 1 - 1e-12


def test_equations_table_is_the_pareto_front(fitted):
    table = fitted.equations_

    assert list(table.columns) == list(EQUATION_COLUMNS)
    assert np.all(np.diff(table["complexity"]) > 0)
    assert np.all(np.diff(table["loss"]) < 0)
    assert table["score"].iloc[0] == 0.0
    assert all(isinstance(e, Expression) for e in table["expression"])
    assert list(table["equation"]) == [str(e) for e in table["expression"]]
    assert list(table["dof"]) == [e.n_constants for e in table["expression"]]
    assert all(isinstance(s, sympy.Expr) for s in table["sympy_format"])


def test_fitted_attributes(fitted, law_data):
    X, _ = law_data

    assert fitted.best_ is fitted.equations_["expression"].iloc[fitted.best_index_]
    assert fitted.n_features_in_ == 2
    assert fitted.variable_names_ == ("x0", "x1")
    assert not hasattr(fitted, "feature_names_in_")
    assert fitted.n_evals_ == fitted.search_result_.n_evals > 0
    assert fitted.search_result_.stopped_by in (
        "niterations",
        "exact fit (brute force)",
        "exact fit (transform)",
    )


def test_predict_index_picks_a_row_of_the_table(fitted, law_data):
    X, _ = law_data
    simplest = fitted.equations_["expression"].iloc[0]

    np.testing.assert_array_equal(fitted.predict(X, index=0), simplest.evaluate(X))
    assert fitted.sympy(index=0) == simplest.to_sympy()
    assert fitted.latex(index=0) == simplest.to_latex()
    assert isinstance(fitted.latex(), str)


def test_predict_refuses_a_row_that_does_not_exist(fitted, law_data):
    X, _ = law_data
    n_rows = len(fitted.equations_)

    with pytest.raises(IndexError, match=f"equations_ has {n_rows} rows"):
        fitted.predict(X, index=n_rows)
    with pytest.raises(TypeError, match="index must be an integer"):
        fitted.predict(X, index=1.5)


def test_predict_checks_the_number_of_features(fitted):
    with pytest.raises(ValueError, match="X has 3 features, but SymbolicRegressor"):
        fitted.predict(np.ones((4, 3)))


def test_predict_refuses_nan(fitted):
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(np.full((2, 2), np.nan))


def test_unfitted_estimator_refuses_to_predict():
    with pytest.raises(NotFittedError):
        SymbolicRegressor().predict(np.ones((2, 2)))


def test_same_seed_gives_the_same_equations(fitted, law_data):
    X, y = law_data

    again = SymbolicRegressor(random_state=0, **FAST).fit(X, y)

    columns = ["complexity", "dof", "loss", "score", "equation"]
    pd.testing.assert_frame_equal(again.equations_[columns], fitted.equations_[columns])


def test_same_seed_gives_the_same_equations_with_every_prior():
    # Noise has no law: every prior runs to its limits, which must not be
    # a matter of time when no timeout is set.
    rng = np.random.default_rng(5)
    X = rng.uniform(-1.0, 1.0, size=(40, 2))
    y = rng.uniform(-0.5, 0.5, size=40)

    first, second = (
        SymbolicRegressor(niterations=2, populations=2, population_size=16).set_params(
            random_state=7
        )
        for _ in range(2)
    )
    first.fit(X, y)
    second.fit(X, y)

    columns = ["complexity", "loss", "equation"]
    pd.testing.assert_frame_equal(first.equations_[columns], second.equations_[columns])
    np.testing.assert_array_equal(first.predict(X), second.predict(X))


def test_dataframe_columns_name_the_variables(law_data):
    X, y = law_data
    frame = pd.DataFrame(X, columns=["mass", "speed"])

    model = SymbolicRegressor(random_state=0, **FAST).fit(frame, y)

    assert list(model.feature_names_in_) == ["mass", "speed"]
    assert model.variable_names_ == ("mass", "speed")
    assert names_in(model.sympy()) == {"mass", "speed"}
    np.testing.assert_allclose(model.predict(frame), y, rtol=1e-10)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"speed": "velocity"}))


def test_explicit_variable_names(law_data):
    X, y = law_data

    model = SymbolicRegressor(random_state=0, **FAST)
    model.fit(X, y, variable_names=["m", "v"])

    assert names_in(model.sympy()) == {"m", "v"}


def test_zero_weights_ignore_corrupted_rows(law_data):
    X, y = law_data
    y = y.copy()
    y[:10] = 1e3
    weights = np.ones_like(y)
    weights[:10] = 0.0

    model = SymbolicRegressor(random_state=0, **FAST).fit(X, y, weights=weights)

    np.testing.assert_allclose(model.predict(X[10:]), y[10:], rtol=1e-8)


def test_model_selection_accuracy_takes_the_lowest_loss(law_data):
    X, y = law_data

    model = SymbolicRegressor(model_selection="accuracy", random_state=1, **FAST)
    model.fit(X, y + 0.01 * np.sin(7 * X[:, 0]))

    losses = model.equations_["loss"].to_numpy()
    assert model.best_index_ == int(np.argmin(losses))
    # Rows that improve only by rounding (equivalent forms) are not listed.
    assert np.all(losses[1:] < (1 - 1e-8) * losses[:-1])


def test_model_selection_mdl_takes_the_shortest_description(law_data):
    from lawfinder.model_selection import data_precision, description_lengths

    X, y = law_data
    model = SymbolicRegressor(model_selection="mdl", random_state=1, **FAST)
    model.fit(X, y)

    table = model.equations_
    n_symbols = 4 + 7 + X.shape[1] + 1  # default operators, variables, a constant
    lengths = description_lengths(
        table["loss"], table["complexity"], n_symbols, data_precision(y)
    )
    assert model.best_index_ == int(np.argmin(lengths))


def test_a_callback_can_stop_the_search(law_data):
    X, y = law_data
    seen = []

    class StopAtOnce:
        def on_iteration(self, state):
            seen.append(state.iteration)
            return True

    model = SymbolicRegressor(
        callbacks=[StopAtOnce()], strategies=[], random_state=0, **FAST
    )
    model.fit(X, y)

    assert seen == [1]
    assert model.search_result_.stopped_by == "callback"


def test_a_callback_must_be_callable(law_data):
    X, y = law_data

    with pytest.raises(TypeError, match="on_iteration"):
        SymbolicRegressor(callbacks=[object()], **FAST).fit(X, y)


def test_verbose_prints_a_summary(law_data, capsys):
    X, y = law_data

    # Without priors, so that the search runs to its last iteration.
    SymbolicRegressor(verbose=True, strategies=[], random_state=0, **FAST).fit(X, y)

    printed = capsys.readouterr().out
    assert "stopped by niterations" in printed
    assert "chosen (model_selection='best')" in printed


def test_random_state_instance_is_accepted(law_data):
    X, y = law_data

    model = SymbolicRegressor(random_state=np.random.RandomState(3), **FAST)

    assert len(model.fit(X, y).equations_) >= 1


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"maxsize": 2}, "maxsize"),
        ({"model_selection": "simplest"}, "model_selection"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"timeout": -1.0}, "timeout"),
        ({"binary_operators": "add"}, "binary_operators"),
        ({"unary_operators": ["frobnicate"]}, "unknown operator 'frobnicate'"),
        ({"binary_operators": ["sin"]}, "is not binary"),
        ({"niterations": None}, "set at least one of niterations"),
    ],
)
def test_bad_parameters_are_named(law_data, parameters, message):
    X, y = law_data

    with pytest.raises(ValueError, match=message):
        SymbolicRegressor(**parameters).fit(X, y)


# Every one of scikit-learn's checks is expected to pass.
@parametrize_with_checks(
    [SymbolicRegressor(niterations=2, populations=2, population_size=16, maxsize=10)]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
