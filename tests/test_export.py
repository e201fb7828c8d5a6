"""Exports of fitted equations: numpy, PyTorch, JAX and the LaTeX table.

Each export is checked against the estimator's ``predict`` on points the fit
never saw, and against the slow reference evaluator on random programs that
use every operator of the table.
"""

from __future__ import annotations

import pickle
import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from rich.console import Console

from lawfinder import SymbolicRegressor
from lawfinder.export import _array_functions, latex_table, to_jax, to_numpy, to_torch
from lawfinder.expression import Expression
from lawfinder.operators import OPERATORS
from lawfinder.printing import default_variable_names, format_uncertainty
from lawfinder.progress import pareto_front_table
from reference import assert_matches_reference, random_features
from strategies import programs

FEATURES = random_features(64, 3, seed=2)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 3.0, size=(100, 2))
    y = 2.5 * X[:, 0] ** 2 + X[:, 1] + rng.normal(0.0, 0.05, size=100)
    regressor = SymbolicRegressor(
        niterations=3,
        populations=2,
        population_size=16,
        random_state=0,
        strategies=[],
    )
    return regressor.fit(X, y)


@pytest.fixture(scope="module")
def new_points():
    """Points away from the training rows, partly outside their range."""
    return np.random.default_rng(1).uniform(0.5, 4.0, size=(25, 2))


def expression_of(program_arrays) -> Expression:
    opcodes, arguments, constants = program_arrays
    return Expression(opcodes, arguments, constants, default_variable_names(3))


def test_every_operator_of_the_table_has_an_array_function():
    assert set(_array_functions(np)) == set(OPERATORS)


# numpy ---------------------------------------------------------------------


def test_numpy_export_matches_predict_on_new_points(model, new_points):
    for index in range(len(model.equations_)):
        function = model.numpy(index)
        expected = model.predict(new_points, index=index)
        np.testing.assert_allclose(function(new_points), expected, rtol=1e-12)
    np.testing.assert_allclose(
        model.numpy()(new_points), model.predict(new_points), rtol=1e-12
    )


@settings(max_examples=100, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=15))
def test_numpy_export_agrees_with_the_reference(program_arrays):
    values = to_numpy(expression_of(program_arrays))(FEATURES)
    assert values.shape == (len(FEATURES),)
    assert_matches_reference(values, *program_arrays, FEATURES)


def test_numpy_function_of_a_constant_has_one_value_per_row():
    function = to_numpy(Expression.from_string("2.5 * 2", ["x"]))
    np.testing.assert_array_equal(function(np.ones((4, 1))), np.full(4, 5.0))


def test_numpy_function_pickles(model, new_points):
    function = pickle.loads(pickle.dumps(model.numpy()))
    np.testing.assert_allclose(function(new_points), model.predict(new_points))


def test_numpy_function_names_the_expected_shape():
    function = to_numpy(Expression.from_string("a * b", ["a", "b"]))
    with pytest.raises(ValueError, match=r"shape \(n_rows, 2\).*\['a', 'b'\]"):
        function(np.ones((3, 3)))


# PyTorch -------------------------------------------------------------------


def test_pytorch_export_matches_predict_on_new_points(model, new_points):
    torch = pytest.importorskip("torch")
    X = torch.from_numpy(new_points)
    for index in range(len(model.equations_)):
        module = model.pytorch(index)
        expected = model.predict(new_points, index=index)
        values = module(X).detach().numpy()
        np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_pytorch_constants_are_trainable(model, new_points):
    torch = pytest.importorskip("torch")
    module = model.pytorch()
    [parameter] = module.parameters()
    assert parameter is module.constants
    np.testing.assert_array_equal(parameter.detach().numpy(), model.best_.constants)

    # Targets off by 10 % pull every constant of 2.5 x0^2 + x1 away.
    X = torch.from_numpy(new_points)
    target = 1.1 * torch.from_numpy(model.predict(new_points))
    optimizer = torch.optim.SGD(module.parameters(), lr=1e-3)
    before = parameter.detach().clone()
    loss = torch.mean((module(X) - target) ** 2)
    loss.backward()
    assert torch.all(torch.isfinite(parameter.grad))
    assert torch.all(parameter.grad != 0)
    optimizer.step()

    assert torch.all(parameter.detach() != before)
    assert torch.mean((module(X) - target) ** 2) < loss


@settings(max_examples=60, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=15))
def test_pytorch_export_agrees_with_the_reference(program_arrays):
    torch = pytest.importorskip("torch")
    module = to_torch(expression_of(program_arrays))
    values = module(torch.from_numpy(FEATURES)).detach().numpy()
    assert values.shape == (len(FEATURES),)
    assert_matches_reference(values, *program_arrays, FEATURES)


def test_pytorch_missing_names_the_install_command(monkeypatch):
    # A None entry in sys.modules makes the import fail as if not installed.
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        to_torch(Expression.from_string("x0 * 2.5"))


# JAX -----------------------------------------------------------------------


def test_jax_export_matches_predict_on_new_points(model, new_points):
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        for index in range(len(model.equations_)):
            function, constants = model.jax(index)
            values = np.asarray(jax.jit(function)(new_points, constants))
            expected = model.predict(new_points, index=index)
            np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_jax_export_in_float32_and_its_gradient(model, new_points):
    jax = pytest.importorskip("jax")
    function, constants = model.jax()
    assert constants.dtype == np.float32
    values = np.asarray(jax.jit(function)(new_points, constants))
    np.testing.assert_allclose(values, model.predict(new_points), rtol=1e-5)

    def mean_square(constants):
        return jax.numpy.mean(function(new_points, constants) ** 2)

    gradient = np.asarray(jax.grad(mean_square)(constants))
    assert gradient.shape == constants.shape
    assert np.all(np.isfinite(gradient)) and np.all(gradient != 0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(programs(n_features=3, max_size=15))
def test_jax_export_agrees_with_the_reference(program_arrays):
    jax = pytest.importorskip("jax")
    with jax.enable_x64(True):
        function, constants = to_jax(expression_of(program_arrays))
        values = np.asarray(function(FEATURES, constants))
    assert values.shape == (len(FEATURES),)
    assert_matches_reference(values, *program_arrays, FEATURES)


def test_jax_missing_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.setitem(sys.modules, "jax.numpy", None)
    with pytest.raises(ImportError, match="pip install jax"):
        to_jax(Expression.from_string("x0 * 2.5"))


# Uncertainties in the tables -------------------------------------------------


def constant_texts(expression: Expression, latex: bool = False) -> list[str]:
    """Each constant with its error, in slot order."""
    return [
        format_uncertainty(value, error, latex=latex)
        for value, error in zip(
            expression.constants, expression.constant_errors, strict=True
        )
    ]


def test_constants_column_holds_each_constant_with_its_error(model):
    chosen = model.equations_.iloc[model.best_index_]
    # 2.5 x0^2 + x1 with noise 0.05 on 100 rows: errors of a few thousandths.
    assert re.fullmatch(r"2\.\d+\(\d\d\), (0\.9|1\.0)\d+\(\d\d\)", chosen["constants"])
    for _, row in model.equations_.iterrows():
        texts = row["constants"].split(", ") if row["dof"] else []
        assert sorted(texts) == sorted(constant_texts(row["expression"]))


def test_latex_table_has_one_row_per_equation(model):
    table = model.latex_table()
    lines = table.splitlines()
    assert lines[:4] == [
        r"\begin{tabular}{@{}rrlr@{}}",
        r"\toprule",
        r"Complexity & DoF & Equation & Loss \\",
        r"\midrule",
    ]
    assert lines[-2:] == [r"\bottomrule", r"\end{tabular}"]
    rows = lines[4:-2]
    assert len(rows) == len(model.equations_)
    assert table.count("{") == table.count("}")

    for row, (_, equation) in zip(rows, model.equations_.iterrows(), strict=True):
        complexity, dof, text, loss = row.removesuffix(r" \\").split(" & ")
        assert (int(complexity), int(dof)) == (equation["complexity"], equation["dof"])
        assert text.startswith("$y = ") and text.endswith("$")
        for constant in constant_texts(equation["expression"], latex=True):
            assert constant in text
        assert loss == f"${format_uncertainty(equation['loss'], 0, 3, latex=True)}$"


def test_latex_table_of_chosen_rows(model):
    table = latex_table(model.equations_, [model.best_index_], target_name="P")
    [row] = table.splitlines()[4:-2]
    assert row.startswith(f"{model.best_.complexity} & 2 & $P = ")
    with pytest.raises(IndexError, match="index 99 is out of range"):
        model.latex_table([99])


def test_command_line_table_shows_constants_with_errors(model):
    console = Console(record=True, width=300)
    console.print(pareto_front_table(model.equations_, model.best_index_))
    shown = console.export_text()
    chosen = model.best_.to_text(uncertainties=True)
    assert re.search(r"\d\(\d\d\)", chosen)
    assert f"y = {chosen}" in shown
