"""Pictures of a fitted model: its Pareto front, its fit to data, its notebook table.

`plot_pareto` and `plot_fit` draw on matplotlib axes, on new pyplot axes when
none are given. `write_plots` draws on bare ``Figure`` objects rendered by the
Agg canvas, so it opens no window and leaves pyplot and the user's backend
alone; each PNG is written atomically, like the other files of a run folder.
`pareto_front_html` is the table a notebook shows for a fitted estimator.
"""

from __future__ import annotations

import html
import io
import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .runfiles import _atomic_write

PARETO_FILE = "pareto.png"
FIT_FILE = "fit.png"
RESIDUALS_AGAINST = ("truth", "prediction")

# Mark of the chosen equation in the notebook table, like its star on the plot.
CHOSEN_MARK = "\u2605"

# Longest equation text drawn on a plot; the full text is in equations_.
_MAX_LABEL_LENGTH = 60

_PNG_DPI = 120


def plot_pareto(model, ax=None):
    """Draw loss against complexity for the Pareto front of a fitted model.

    Every equation of ``equations_`` is a point on a step line (the lowest loss
    reachable at each complexity), on a log loss axis; the chosen equation
    (``best_index_``) is a star labelled with its text. An exact fit (loss 0)
    has no place on a log axis: it is drawn as a triangle three decades below
    the smallest positive loss.

    Parameters
    ----------
    model : SymbolicRegressor
        A fitted estimator.
    ax : matplotlib.axes.Axes, default=None
        Where to draw; None draws on a new pyplot figure.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    Examples
    --------
    >>> ax = plot_pareto(model)  # doctest: +SKIP
    >>> ax.figure.savefig("pareto.png")  # doctest: +SKIP
    """
    check_is_fitted(model)
    if ax is None:
        ax = _pyplot_axes(1, figsize=(6.4, 4.8))[0]

    equations = model.equations_
    complexity = equations["complexity"].to_numpy()
    loss = _drawable_losses(equations["loss"].to_numpy(dtype=np.float64))
    best = model.best_index_

    ax.plot(
        complexity,
        loss,
        drawstyle="steps-post",
        marker="o",
        color="C0",
        label="Pareto front",
    )

    exact = equations["loss"].to_numpy() <= 0
    if exact.any():
        ax.plot(
            complexity[exact],
            loss[exact],
            linestyle="none",
            marker="v",
            markersize=9,
            color="C0",
            label=f"loss 0, drawn at {loss[exact][0]:.1g}",
        )

    ax.plot(
        complexity[best],
        loss[best],
        linestyle="none",
        marker="*",
        markersize=16,
        color="C3",
        label=f"chosen ({model.model_selection})",
    )
    # Text to the left of a point in the right half, so it stays inside the axes.
    right_half = best >= len(equations) / 2
    ax.annotate(
        _short(equations["equation"].iloc[best]),
        xy=(complexity[best], loss[best]),
        xytext=(-10 if right_half else 10, 8),
        textcoords="offset points",
        horizontalalignment="right" if right_half else "left",
        color="C3",
    )

    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("complexity")
    ax.set_ylabel("loss")
    ax.set_title(f"Pareto front: {len(equations)} equations")
    ax.legend(loc="best")
    return ax


def plot_fit(model, X, y, index=None, axes=None, residuals_against="truth"):
    """Draw an equation's prediction and residuals against the true values.

    The left panel shows the prediction against the truth, with the line where
    they are equal; the right panel shows the residuals ``y - prediction``
    against the truth or the prediction. Rows where the equation is undefined
    (non-finite prediction) are not drawn; the left title counts them.

    Parameters
    ----------
    model : SymbolicRegressor
        A fitted estimator.
    X : array-like or pandas.DataFrame of shape (n_rows, n_features)
        Features, with the same columns as in ``fit``.
    y : array-like of shape (n_rows,)
        True values of the target.
    index : int, default=None
        Row of ``equations_`` to draw; None means ``best_index_``.
    axes : sequence of two matplotlib.axes.Axes, default=None
        Where to draw the two panels; None draws on a new pyplot figure.
    residuals_against : {"truth", "prediction"}, default="truth"
        Horizontal axis of the residual panel.

    Returns
    -------
    ndarray of shape (2,) of matplotlib.axes.Axes
        The prediction panel and the residual panel.

    Examples
    --------
    >>> axes = plot_fit(model, X, y)  # doctest: +SKIP
    >>> axes[0].figure.savefig("fit.png")  # doctest: +SKIP
    """
    check_is_fitted(model)
    if residuals_against not in RESIDUALS_AGAINST:
        raise ValueError(
            f"residuals_against={residuals_against!r} is not known; allowed "
            f"values: {', '.join(repr(name) for name in RESIDUALS_AGAINST)}"
        )
    prediction = model.predict(X, index=index)  # checks X and index
    truth = column_or_1d(y, dtype=np.float64)
    if truth.shape != prediction.shape:
        raise ValueError(
            f"y has {truth.size} rows but X has {prediction.size}; give the "
            "true values of the rows of X"
        )
    if axes is None:
        axes = _pyplot_axes(2, figsize=(11, 4.8))
    axes = np.asarray(axes, dtype=object).ravel()
    if axes.size != 2:
        raise ValueError(
            f"axes must hold two matplotlib Axes (prediction and residuals), "
            f"got {axes.size}"
        )

    row = model.equations_.iloc[model.best_index_ if index is None else index]
    residuals = truth - prediction
    defined = np.isfinite(prediction)
    against = truth if residuals_against == "truth" else prediction

    title = f"complexity {row['complexity']}: {_short(row['equation'])}"
    if not defined.all():
        title += f"\n{np.count_nonzero(~defined)} rows undefined, not drawn"
    _draw_prediction(axes[0], truth, prediction, defined)
    axes[0].set_title(title)
    _draw_residuals(axes[1], against, residuals, residuals_against)
    return axes


def write_plots(folder, model, X, y) -> dict[str, Path]:
    """Write ``pareto.png`` and ``fit.png`` of a fitted model into a folder.

    The figures are rendered by the Agg canvas without pyplot, so no window
    opens and the matplotlib backend stays as it was. Both are drawn before
    either file is written, and each file is replaced atomically, so a failure
    leaves the previous files or the new ones, never a partial file.

    Parameters
    ----------
    folder : str or os.PathLike
        Where to write; created with its parents if missing.
    model : SymbolicRegressor
        A fitted estimator.
    X : array-like or pandas.DataFrame of shape (n_rows, n_features)
        Features for the fit plot, with the same columns as in ``fit``.
    y : array-like of shape (n_rows,)
        True values of the target.

    Returns
    -------
    dict of str to pathlib.Path
        The paths written, under the keys ``"pareto"`` and ``"fit"``.

    Examples
    --------
    >>> paths = write_plots("my_run", model, X, y)  # doctest: +SKIP
    >>> sorted(paths)  # doctest: +SKIP
    ['fit', 'pareto']
    """
    check_is_fitted(model)
    folder = Path(folder)

    pareto = Figure(figsize=(6.4, 4.8), layout="constrained")
    plot_pareto(model, ax=pareto.add_subplot())
    fit = Figure(figsize=(11, 4.8), layout="constrained")
    plot_fit(model, X, y, axes=fit.subplots(1, 2))

    folder.mkdir(parents=True, exist_ok=True)
    return {
        "pareto": _write_png(pareto, folder / PARETO_FILE),
        "fit": _write_png(fit, folder / FIT_FILE),
    }


def pareto_front_html(model) -> str:
    """The Pareto front of a fitted model as an HTML table, the chosen row marked.

    Parameters
    ----------
    model : SymbolicRegressor
        A fitted estimator.

    Returns
    -------
    str
        A ``<table>`` with columns complexity, loss, score and equation; the
        chosen equation's row has class ``lawfinder-chosen``, is bold and
        starts with a star. Equation text is HTML-escaped.

    Examples
    --------
    >>> from IPython.display import HTML  # doctest: +SKIP
    >>> HTML(pareto_front_html(model))  # doctest: +SKIP
    """
    check_is_fitted(model)
    equations = model.equations_

    rows = []
    columns = equations[["complexity", "loss", "score", "equation"]]
    for position, (complexity, loss, score, equation) in enumerate(
        columns.itertuples(index=False)
    ):
        chosen = position == model.best_index_
        attributes = (
            ' class="lawfinder-chosen" style="font-weight: bold"' if chosen else ""
        )
        mark = f'<td title="chosen">{CHOSEN_MARK}</td>' if chosen else "<td></td>"
        rows.append(
            f"<tr{attributes}>{mark}"
            f'<td style="text-align: right">{complexity}</td>'
            f'<td style="text-align: right">{loss:.4g}</td>'
            f'<td style="text-align: right">{score:.4g}</td>'
            f'<td style="text-align: left">{html.escape(equation)}</td></tr>'
        )

    caption = html.escape(
        f"Pareto front, {len(equations)} equations; {CHOSEN_MARK} chosen by "
        f"model_selection={model.model_selection!r}"
    )
    header = "".join(
        f"<th>{name}</th>" for name in ("", "complexity", "loss", "score", "equation")
    )
    return (
        '<table class="lawfinder-pareto-front">'
        f"<caption>{caption}</caption>"
        f"<thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _pyplot_axes(n_columns: int, figsize: tuple[float, float]) -> np.ndarray:
    """A row of new pyplot axes; pyplot is imported only when axes are needed."""
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, n_columns, figsize=figsize, layout="constrained")
    return np.atleast_1d(axes)


def _draw_prediction(ax, truth, prediction, defined) -> None:
    """Prediction against truth, with the line where the two are equal."""
    ax.scatter(truth, prediction, s=12, alpha=0.7, color="C0", label="rows")
    if defined.any():
        low = min(truth[defined].min(), prediction[defined].min())
        high = max(truth[defined].max(), prediction[defined].max())
        ax.plot(
            [low, high],
            [low, high],
            color="black",
            linewidth=1,
            linestyle="--",
            label="prediction = truth",
        )
    ax.set_xlabel("truth")
    ax.set_ylabel("prediction")
    ax.legend(loc="upper left")


def _draw_residuals(ax, against, residuals, against_name: str) -> None:
    """Residuals ``truth - prediction`` against the truth or the prediction."""
    ax.scatter(against, residuals, s=12, alpha=0.7, color="C0")
    ax.axhline(0.0, color="black", linewidth=1, linestyle="--")
    ax.set_xlabel(against_name)
    ax.set_ylabel("residual (truth - prediction)")
    ax.set_title("residuals")


def _drawable_losses(losses: np.ndarray) -> np.ndarray:
    """Losses with zeros raised to 1/1000 of the smallest positive one (log axis)."""
    positive = losses[losses > 0]
    floor = positive.min() / 1000 if positive.size else 1.0
    return np.maximum(losses, floor)


def _short(text: str) -> str:
    """``text`` cut to the length that fits on a plot."""
    if len(text) <= _MAX_LABEL_LENGTH:
        return text
    return text[: _MAX_LABEL_LENGTH - 3] + "..."


def _write_png(figure: Figure, path: Path) -> Path:
    """Render ``figure`` with Agg, then write the PNG to ``path`` atomically."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_PNG_DPI)

    def write(descriptor: int) -> None:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(buffer.getvalue())
            stream.flush()
            os.fsync(stream.fileno())

    return _atomic_write(path, write)
