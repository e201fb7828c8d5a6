"""Plots of a fitted model, its notebook table, and the progress view in notebooks."""

from __future__ import annotations

import html
import importlib.util
import io
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: no window opens in tests

import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from rich.console import Console
from sklearn import config_context
from sklearn.exceptions import NotFittedError

from lawfinder import SymbolicRegressor
from lawfinder.plotting import (
    FIT_FILE,
    PARETO_FILE,
    pareto_front_html,
    plot_fit,
    plot_pareto,
    write_plots,
)
from lawfinder.progress import ProgressDisplay

# Characters that HTML must escape, in a name the estimator accepts.
ODD_NAME = "m<1>&"


@pytest.fixture(scope="module")
def data():
    """A product law, with a feature name that must be escaped in HTML."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({ODD_NAME: rng.uniform(1, 3, 40), "z": rng.uniform(1, 3, 40)})
    y = 2.5 * X[ODD_NAME] * X["z"]
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    model = SymbolicRegressor(
        niterations=3,
        populations=2,
        population_size=16,
        random_state=0,
        strategies=[],
    )
    return model.fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_front_has_several_equations(fitted):
    # The tests below compare whole fronts: one equation would prove little.
    assert len(fitted.equations_) >= 3
    assert any(ODD_NAME in equation for equation in fitted.equations_["equation"])


def test_write_plots_writes_valid_pngs_of_the_figure_sizes(fitted, data, tmp_path):
    X, y = data
    folder = tmp_path / "run" / "plots"

    paths = write_plots(folder, fitted, X, y)

    assert paths == {"pareto": folder / PARETO_FILE, "fit": folder / FIT_FILE}
    assert sorted(entry.name for entry in folder.iterdir()) == ["fit.png", "pareto.png"]
    # 6.4 x 4.8 and 11 x 4.8 inches at 120 dots per inch, RGBA.
    assert matplotlib.image.imread(paths["pareto"]).shape == (576, 768, 4)
    assert matplotlib.image.imread(paths["fit"]).shape == (576, 1320, 4)


def test_write_plots_replaces_files_and_leaves_pyplot_alone(fitted, data, tmp_path):
    X, y = data
    backend = matplotlib.get_backend()
    (tmp_path / PARETO_FILE).write_bytes(b"old")

    write_plots(tmp_path, fitted, X, y)
    write_plots(tmp_path, fitted, X, y)

    assert (tmp_path / PARETO_FILE).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [
        "fit.png",
        "pareto.png",
    ]
    assert plt.get_fignums() == []
    assert matplotlib.get_backend() == backend


def test_write_plots_with_bad_data_writes_nothing(fitted, data, tmp_path):
    X, y = data

    with pytest.raises(ValueError, match="rows"):
        write_plots(tmp_path, fitted, X, y[:-1])

    assert list(tmp_path.iterdir()) == []


def test_plot_pareto_draws_the_front_and_marks_the_chosen_equation(fitted):
    equations = fitted.equations_
    best = fitted.best_index_
    losses = equations["loss"].to_numpy()
    # A loss of 0 is drawn three decades below the smallest positive loss.
    drawn = np.maximum(losses, losses[losses > 0].min() / 1000)

    ax = fitted.plot_pareto(ax=Figure().add_subplot())

    lines = {line.get_label(): line for line in ax.get_lines()}
    front = lines["Pareto front"]
    np.testing.assert_array_equal(front.get_xdata(), equations["complexity"])
    np.testing.assert_array_equal(front.get_ydata(), drawn)
    chosen = lines[f"chosen ({fitted.model_selection})"]
    np.testing.assert_array_equal(chosen.get_xdata(), [equations["complexity"][best]])
    np.testing.assert_array_equal(chosen.get_ydata(), [drawn[best]])
    assert [text.get_text() for text in ax.texts] == [equations["equation"][best]]
    assert ax.get_yscale() == "log"


def test_plot_pareto_without_axes_draws_on_a_new_pyplot_figure(fitted):
    ax = plot_pareto(fitted)

    assert plt.get_fignums() == [ax.figure.number]
    assert ax.get_xlabel() == "complexity"


@pytest.mark.parametrize("index", [None, 0, -2])
def test_plot_fit_residuals_are_truth_minus_prediction(fitted, data, index):
    X, y = data
    prediction = fitted.predict(X, index=index)

    axes = fitted.plot_fit(X, y, index=index)

    assert len(axes) == 2
    np.testing.assert_array_equal(
        axes[0].collections[0].get_offsets(), np.column_stack([y, prediction])
    )
    np.testing.assert_array_equal(
        axes[1].collections[0].get_offsets(), np.column_stack([y, y - prediction])
    )
    row = fitted.equations_.iloc[fitted.best_index_ if index is None else index]
    assert row["equation"] in axes[0].get_title()


def test_plot_fit_residuals_against_prediction(fitted, data):
    X, y = data
    prediction = fitted.predict(X, index=0)

    figure = Figure()
    axes = plot_fit(
        fitted,
        X,
        y,
        index=0,
        axes=figure.subplots(1, 2),
        residuals_against="prediction",
    )

    np.testing.assert_array_equal(
        axes[1].collections[0].get_offsets(),
        np.column_stack([prediction, y - prediction]),
    )
    assert axes[1].get_xlabel() == "prediction"


def test_plot_fit_counts_rows_where_the_equation_is_undefined():
    x = np.linspace(1, 3, 30)
    model = SymbolicRegressor(
        unary_operators=["log"],
        binary_operators=["add", "mul"],
        niterations=3,
        populations=2,
        population_size=16,
        random_state=0,
        strategies=[],
    ).fit(x[:, None], np.log(x))
    index = next(
        row
        for row, equation in enumerate(model.equations_["equation"])
        if "log" in equation
    )
    X_negative = np.column_stack([-x])  # log of a negative number is undefined
    undefined = ~np.isfinite(model.predict(X_negative, index=index))
    assert undefined.any()

    axes = model.plot_fit(X_negative, np.log(x), index=index)

    assert f"{np.count_nonzero(undefined)} rows undefined" in axes[0].get_title()


@pytest.mark.parametrize(
    ("keywords", "error", "message"),
    [
        ({"index": 99}, IndexError, "out of range"),
        ({"index": "0"}, TypeError, "index must be an integer"),
        ({"residuals_against": "truth^2"}, ValueError, "'truth', 'prediction'"),
        ({"axes": [Figure().add_subplot()]}, ValueError, "two matplotlib Axes"),
    ],
)
def test_plot_fit_rejects_bad_arguments(fitted, data, keywords, error, message):
    X, y = data

    with pytest.raises(error, match=message):
        fitted.plot_fit(X, y, **keywords)


@pytest.mark.parametrize(
    "draw",
    [
        lambda model, X, y, folder: model.plot_pareto(),
        lambda model, X, y, folder: model.plot_fit(X, y),
        lambda model, X, y, folder: write_plots(folder, model, X, y),
        lambda model, X, y, folder: pareto_front_html(model),
    ],
    ids=["plot_pareto", "plot_fit", "write_plots", "pareto_front_html"],
)
def test_unfitted_model_raises_not_fitted(data, tmp_path, draw):
    X, y = data

    with pytest.raises(NotFittedError):
        draw(SymbolicRegressor(), X, y, tmp_path)

    assert list(tmp_path.iterdir()) == []


class _FrontRows(HTMLParser):
    """The body rows of the Pareto front table: each row's class and cell texts."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str | None, list[str]]] = []
        self._in_front = False
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and attributes.get("class") == "lawfinder-pareto-front":
            self._in_front = True
        elif tag == "tr" and self._in_front:
            self.rows.append((attributes.get("class"), []))
        elif tag == "td" and self._in_front:
            self.rows[-1][1].append("")
            self._in_cell = True

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False
        elif tag == "table":
            self._in_front = False

    def handle_data(self, data):
        if self._in_cell and self._in_front:
            self.rows[-1][1][-1] += data


def test_html_repr_lists_the_front_and_marks_the_chosen_equation(fitted):
    equations = fitted.equations_

    text = fitted._repr_html_()

    parser = _FrontRows()
    parser.feed(text)
    rows = [(kind, cells) for kind, cells in parser.rows if cells]  # not the header
    assert [cells[4] for _, cells in rows] == list(equations["equation"])
    assert [int(cells[1]) for _, cells in rows] == list(equations["complexity"])
    chosen = [row for row, (kind, _) in enumerate(rows) if kind == "lawfinder-chosen"]
    assert chosen == [fitted.best_index_]
    assert [cells[0] for _, cells in rows] == [
        "\u2605" if row == fitted.best_index_ else "" for row in range(len(rows))
    ]
    # Escaped in the source: the raw name would be read as a tag.
    for equation in equations["equation"]:
        assert html.escape(equation) in text
    assert ODD_NAME not in text
    assert "sk-" in text  # scikit-learn's diagram follows the table


def test_notebooks_get_the_table_through_the_mime_bundle(fitted):
    bundle = fitted._repr_mimebundle_()
    assert 'class="lawfinder-pareto-front"' in bundle["text/html"]

    with config_context(display="text"):
        assert "text/html" not in fitted._repr_mimebundle_()


def test_unfitted_html_repr_is_scikit_learns_diagram():
    text = SymbolicRegressor()._repr_html_()

    assert "sk-" in text
    assert "lawfinder-pareto-front" not in text


def test_progress_redraws_in_place_in_notebooks_with_ipywidgets():
    has_ipywidgets = importlib.util.find_spec("ipywidgets") is not None
    notebook = Console(file=io.StringIO(), force_jupyter=True)
    pipe = Console(file=io.StringIO(), force_jupyter=False)

    # rich's Live draws in a notebook through an ipywidgets Output, else not at all.
    assert ProgressDisplay(["x"], console=notebook).live is has_ipywidgets
    assert ProgressDisplay(["x"], console=pipe).live is False
