"""The scikit-learn estimator: validate input, run a search, present the results."""

from __future__ import annotations

import logging
import os
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .export import latex_table, to_jax, to_numpy, to_torch
from .expression import Expression
from .model_selection import MODEL_SELECTIONS, TINY_LOSS, pareto_front, scores, select
from .operators import CONSTANT
from .printing import format_uncertainty
from .priors.pipeline import Units, check_strategies, solve
from .priors.units import dimensional_analysis, units_matrix
from .search.options import (
    DEFAULT_BINARY_OPERATORS,
    DEFAULT_UNARY_OPERATORS,
    SearchOptions,
)
from .search.result import HallOfFameEntry, SearchResult
from .validation import FitData, check_features, check_fit_data

logger = logging.getLogger(__name__)

EQUATION_COLUMNS = (
    "complexity",
    "dof",
    "loss",
    "score",
    "equation",
    "constants",
    "sympy_format",
    "expression",
)

# When choosing an equation, a relative RMS error below sqrt(eps) ~ 1.5e-8 counts
# as exact: beyond it, lower losses are rounding noise in the fit, not better laws.
_RELATIVE_LOSS_FLOOR = np.finfo(np.float64).eps

# Equivalent forms of one equation differ in loss by rounding (~1e-15 relative);
# 1e-8 is far above that and far below any gain that the data can show.
_MIN_RELATIVE_IMPROVEMENT = 1e-8


class SymbolicRegressor(RegressorMixin, BaseEstimator):
    """Find closed-form formulas that predict ``y`` from the columns of ``X``.

    An evolutionary search over expression trees returns the Pareto front of
    accuracy against complexity (the hall of fame): for each complexity, the
    equation with the lowest loss, its constants fitted to the data. One
    equation of the front is chosen as the answer (``best_``); every other one
    stays available in ``equations_`` and through the ``index`` argument of
    `predict`, `sympy`, `latex` and the exports `numpy`, `pytorch` and `jax`;
    `latex_table` writes the front as a table for a paper.

    Parameters
    ----------
    binary_operators : list of str, default=None
        Operators with two operands, such as ``"add"``, ``"sub"``, ``"mul"``,
        ``"div"``, ``"pow"`` (symbols such as ``"+"`` also work). None means
        ``["add", "sub", "mul", "div"]``.
    unary_operators : list of str, default=None
        Operators with one operand, such as ``"square"``, ``"sqrt"``,
        ``"exp"``, ``"log"``, ``"sin"``, ``"cos"``. None means
        ``["neg", "square", "sqrt", "exp", "log", "sin", "cos"]``; an empty
        list allows none.
    maxsize : int, default=30
        Largest complexity (number of nodes, by default) of an equation.
    maxdepth : int, default=None
        Deepest nesting of an equation; None means no limit beyond ``maxsize``.
    allow_nesting : bool, default=False
        Whether a function of a dimensionless argument (``exp``, ``log``,
        ``sin``, ``cos``, ``tan``, ``tanh``) may appear inside another one, as
        in ``sin(exp(x))``. Physical laws rarely nest them, and nested ones
        fit almost any smooth curve, which traps the search in near-fits.
    simplify : bool, default=True
        After the search, rewrite each equation of the front with sympy
        (variables positive in every row are taken as positive) and keep a
        rewrite where it is simpler and, with refitted constants, fits as
        well. Takes up to 5 seconds (30 without a ``timeout``, so that a busy
        machine does not change the result); with a ``timeout``, evolution stops a
        twentieth of it early (at most 5 seconds) to leave this time.
    strategies : list of str, default=None
        The physics priors to use, from ``"units"`` (dimensional analysis,
        when ``fit`` gets units), ``"brute_force"`` (enumerate every small
        program when one or two variables are left), ``"structure"``
        (separability and symmetry tests on a smooth surrogate of the data,
        for three or more variables), ``"transforms"`` (solve ``log(y)``,
        ``1/y``, ``y**2``, ... instead of ``y`` when that is much closer to a
        polynomial, and transform the formulas back) and ``"snap"`` (set
        constants to simple numbers such as 1/2 or pi when the fit stays as
        good). None uses all of them; an empty list none.
    unit_penalty : float, default=0.1
        With units and without the ``"units"`` reduction (or where it cannot
        be made), the search over the original variables adds this to the
        score of a candidate (its loss normalised by the variance of ``y``)
        for each place where it combines units inconsistently: a sum of
        different units, a function such as ``exp`` of a dimensioned
        argument, a result without the units of ``y``. Constants may carry
        any units. 0 switches the penalty off.
    populations : int, default=16
        Number of islands that evolve separately and exchange equations.
    population_size : int, default=32
        Number of equations on each island.
    niterations : int, default=100
        Number of search iterations; each evolves every island for one cycle.
        None means no limit, in which case ``timeout`` or ``max_evals`` must be
        set.
    timeout : float, default=None
        Stop after this many seconds. The last cycle is shortened to end in
        time, from the length of the one before; the fit may still overrun by
        about a second for refitting and simplifying the result.
    max_evals : int, default=None
        Stop after this many evaluations of an equation on the data.
    loss_threshold : float, default=None
        Stop as soon as an equation reaches a loss at or below this value.
    parsimony : float, default=0.0
        Penalty per unit of complexity in the search score
        ``loss + parsimony * complexity``, where the loss is normalised so the
        same value means the same on every data set.
    alpha : float, default=0.1
        Scale of the simulated-annealing temperature: larger values accept
        worse mutations more often.
    model_selection : {"best", "accuracy", "score", "mdl"}, default="best"
        How ``best_`` is chosen from the front: ``"accuracy"`` takes the lowest
        loss, ``"score"`` the highest score (the steepest fall of log-loss per
        unit of complexity), ``"best"`` the highest score among equations whose
        loss is within 1.5 times the lowest, ``"mdl"`` the shortest description
        length in bits, as AI Feynman does: ``complexity * log2(symbols) +
        log2(max(1, RMS / epsilon))`` with ``epsilon = 1e-6 * rms(y)``.
    n_jobs : int, default=1
        Number of worker threads running islands; -1 uses every core, None
        means 1. Results are reproducible only with ``n_jobs=1``.
    random_state : int, RandomState instance or None, default=None
        Seed of the search. With an int and ``n_jobs=1`` two fits on the same
        data give the same equations.
    verbose : bool, default=False
        Show the progress of the search (elapsed time, evaluations per second,
        the best equation of each complexity) and print a short summary when
        the fit ends. The search otherwise reports only through the
        ``logging`` module and ``callbacks``.
    callbacks : list of objects, default=None
        Objects with a method ``on_iteration(state)``, or functions of
        ``state``, called with a ``lawfinder.search.result.SearchState`` after
        every iteration; a callback that returns True stops the search.
    warm_start : bool, default=False
        When True, `fit` continues the search of the previous fit, or of a
        run loaded with `from_run`, from its islands and hall of fame instead
        of starting afresh: ``niterations``, ``timeout`` and ``max_evals``
        count what this fit adds, and the counts of ``search_result_``
        continue from the earlier ones. ``populations``, ``population_size``,
        ``maxsize``, the operators and the variables must stay the same;
        other rows of data are allowed (every equation is refitted to them
        first). The physics priors run again around the continued search.
    checkpoint_folder : str or path-like, default=None
        Run folder to save the search to while it runs: every
        ``checkpoint_seconds`` it replaces ``search_state.npz`` and
        ``run.json`` there, atomically, so a crash loses at most that
        interval; when the fit ends it writes the run files, with
        ``hall_of_fame.csv``. ``from_run(folder)`` reloads the run, and a
        ``fit`` on the same data with ``warm_start=True`` continues it. None
        saves nothing.
    checkpoint_seconds : float, default=60.0
        Least time in seconds between two checkpoints; 0 saves after every
        iteration.

    Attributes
    ----------
    equations_ : pandas.DataFrame
        The Pareto front, one row per complexity, simplest first, with columns
        ``complexity``, ``dof`` (number of fitted constants), ``loss`` (weighted
        mean squared error), ``score``, ``equation`` (text), ``constants``
        (text: each fitted constant with its standard error in concise
        notation, ``1.086(11)`` for 1.086 +- 0.011, in the order they appear
        in ``equation``, comma-separated; a constant of unknown or zero error,
        such as one snapped to 1/2, shows its value alone), ``sympy_format``
        (a sympy expression) and ``expression`` (a `lawfinder.Expression`).
    best_index_ : int
        Row of ``equations_`` chosen by ``model_selection``.
    best_ : Expression
        The chosen equation.
    variable_names_ : tuple of str
        Names of the features as they appear in the equations.
    n_features_in_ : int
        Number of features seen during `fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of ``X``, set only when ``X`` was a DataFrame with string
        column names.
    n_evals_ : int
        Number of equation evaluations the search made.
    findings_ : list of str
        What the priors found, one line each, such as
        ``"units: m = m_0 * f(v/c)"``; also logged, and printed when verbose.
    search_result_ : lawfinder.search.result.SearchResult
        Everything the search returned, including the raw hall of fame, the
        reason it stopped, its timings and ``state``, the islands and hall of
        fame as the search left them, which ``warm_start`` continues.

    Examples
    --------
    >>> import numpy as np
    >>> from lawfinder import SymbolicRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(1, 2, size=(200, 2))
    >>> y = 2.5 * X[:, 0] * X[:, 1]
    >>> model = SymbolicRegressor(niterations=10, random_state=0).fit(X, y)
    >>> print(model.best_)  # doctest: +SKIP
    2.5*x0*x1
    """

    _parameter_constraints: dict = {
        "binary_operators": [list, tuple, None],
        "unary_operators": [list, tuple, None],
        "maxsize": [Interval(Integral, 3, None, closed="left")],
        "maxdepth": [Interval(Integral, 2, None, closed="left"), None],
        "allow_nesting": ["boolean"],
        "simplify": ["boolean"],
        "strategies": [list, tuple, set, frozenset, str, None],
        "unit_penalty": [Interval(Real, 0, None, closed="left")],
        "populations": [Interval(Integral, 1, None, closed="left")],
        "population_size": [Interval(Integral, 8, None, closed="left")],
        "niterations": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "max_evals": [Interval(Integral, 1, None, closed="left"), None],
        "loss_threshold": [Interval(Real, 0, None, closed="left"), None],
        "parsimony": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "model_selection": [StrOptions(set(MODEL_SELECTIONS))],
        "n_jobs": [
            Interval(Integral, 1, None, closed="left"),
            Options(Integral, {-1}),
            None,
        ],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "warm_start": ["boolean"],
        "checkpoint_folder": [str, os.PathLike, None],
        "checkpoint_seconds": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        binary_operators=None,
        unary_operators=None,
        maxsize=30,
        maxdepth=None,
        allow_nesting=False,
        simplify=True,
        strategies=None,
        unit_penalty=0.1,
        populations=16,
        population_size=32,
        niterations=100,
        timeout=None,
        max_evals=None,
        loss_threshold=None,
        parsimony=0.0,
        alpha=0.1,
        model_selection="best",
        n_jobs=1,
        random_state=None,
        verbose=False,
        callbacks=None,
        warm_start=False,
        checkpoint_folder=None,
        checkpoint_seconds=60.0,
    ):
        self.binary_operators = binary_operators
        self.unary_operators = unary_operators
        self.maxsize = maxsize
        self.maxdepth = maxdepth
        self.allow_nesting = allow_nesting
        self.simplify = simplify
        self.strategies = strategies
        self.unit_penalty = unit_penalty
        self.populations = populations
        self.population_size = population_size
        self.niterations = niterations
        self.timeout = timeout
        self.max_evals = max_evals
        self.loss_threshold = loss_threshold
        self.parsimony = parsimony
        self.alpha = alpha
        self.model_selection = model_selection
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.checkpoint_folder = checkpoint_folder
        self.checkpoint_seconds = checkpoint_seconds

    def fit(self, X, y, variable_names=None, weights=None, X_units=None, y_units=None):
        """Search for equations that predict ``y`` from ``X``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_rows, n_features)
            Numeric features, at least two rows, no NaN or infinite values.
        y : array-like of shape (n_rows,)
            Numeric target.
        variable_names : list of str, default=None
            Names of the features in the equations, such as ``"mass"`` or
            ``"E kin"``; not operator names, numbers, or names holding
            ``+ - * / ^ ( ) ,``. Defaults to the DataFrame column names, or
            ``x0, x1, ...``.
        weights : array-like of shape (n_rows,), default=None
            Non-negative weight of each row in the loss, for example
            ``1 / sigma**2`` for measurement errors ``sigma``.
        X_units : list, default=None
            Units of each feature, as pint strings such as ``"kg*m/s^2"``,
            ``"m"`` or ``"1"`` (no units), or as exponent vectors, all in the
            same basis. With ``y_units``, dimensional analysis reduces the
            problem before the search (see ``strategies``).
        y_units : str or sequence of float, default=None
            Units of the target, in the same form.

        Returns
        -------
        self : SymbolicRegressor
            The fitted estimator.
        """
        self._validate_params()
        options = self._search_options()
        callbacks = self._checked_callbacks()
        strategies = check_strategies(self.strategies)
        data = check_fit_data(X, y, weights=weights, variable_names=variable_names)
        units = _checked_units(X_units, y_units, data.X.shape[1])
        # Records n_features_in_ and feature_names_in_ from the original X.
        validate_data(self, X, reset=True, skip_check_array=True)
        initial_state = (
            getattr(self, "_search_state", None) if self.warm_start else None
        )
        self._run_info = self._fit_record(data, y, X_units, y_units, initial_state)
        main_search = {
            "initial_state": initial_state,
            "checkpoint": self._checkpoint_writer(),
        }

        findings: list[str] = []

        def report(text: str) -> None:
            findings.append(text)
            logger.info(text)

        def search(extra_callbacks=()):
            return solve(
                data.X,
                data.y,
                data.weights,
                options,
                data.variable_names,
                strategies,
                units,
                (*callbacks, *extra_callbacks),
                report,
                _target_name(y),
                main_search,
            )

        if self.verbose:
            # Imported here: the display pulls in rich, which quiet fits never need.
            from .progress import ProgressDisplay

            with ProgressDisplay(data.variable_names) as display:
                result = search((display,))
            for text in findings:
                print(text)
        else:
            result = search()
        self.findings_ = findings

        self.variable_names_ = data.variable_names
        self.search_result_ = result
        self.n_evals_ = int(result.n_evals)
        self.equations_ = self._equations_table(result, data)
        self.best_index_ = select(
            self.equations_,
            self.model_selection,
            _loss_floor(data),
            n_symbols=_alphabet_size(options, data.X.shape[1]),
            y=data.y,
        )
        self.best_ = self.equations_["expression"].iloc[self.best_index_]
        # Kept for warm_start; a fit that ran no evolution keeps the earlier one.
        if result.state is not None:
            self._search_state = result.state
        if self.checkpoint_folder is not None:
            from .runfiles import write_run

            write_run(self.checkpoint_folder, self)

        logger.info(
            "search stopped by %s after %d evaluations in %.3g s; chose %s",
            result.stopped_by,
            result.n_evals,
            result.elapsed,
            self.best_,
        )
        if self.verbose:
            print(self._summary())
        return self

    def predict(self, X, index=None):
        """Evaluate an equation of the front on ``X``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_rows, n_features)
            Features, with the same columns as in `fit`.
        index : int, default=None
            Row of ``equations_`` to use; None means ``best_index_``.

        Returns
        -------
        ndarray of shape (n_rows,)
            Predictions; non-finite where the equation is undefined (for
            example the log of a negative number).
        """
        check_is_fitted(self)
        X_array = check_features(X)
        validate_data(self, X, reset=False, skip_check_array=True)
        return self._expression_at(index).evaluate(X_array)

    def sympy(self, index=None):
        """Return an equation of the front as a sympy expression.

        Parameters
        ----------
        index : int, default=None
            Row of ``equations_``; None means ``best_index_``.

        Returns
        -------
        sympy.Expr
        """
        check_is_fitted(self)
        return self._expression_at(index).to_sympy()

    def latex(self, index=None):
        """Return an equation of the front as LaTeX source.

        Parameters
        ----------
        index : int, default=None
            Row of ``equations_``; None means ``best_index_``.

        Returns
        -------
        str
        """
        check_is_fitted(self)
        return self._expression_at(index).to_latex()

    @classmethod
    def from_run(cls, folder):
        """Reload a run from its run folder, without pickles.

        Parameters
        ----------
        folder : str or path-like
            A run folder, as written by ``lawfinder fit``, by `fit` with
            ``checkpoint_folder``, or by `lawfinder.runfiles.write_run`.

        Returns
        -------
        SymbolicRegressor
            With the parameters recorded in ``run.json``. For a finished or
            interrupted run it is fitted: ``equations_`` comes from
            ``hall_of_fame.csv``, whose equations hold every constant exactly,
            with its standard error, and
            ``best_``, `predict`, `sympy` and `latex` work as after `fit`. A
            run that ended without finishing (a crash) has only a checkpoint:
            the estimator is then not fitted, and a warning says so. Either
            way, with ``search_state.npz`` in the folder, a `fit` with
            ``warm_start=True`` continues that search.

        Raises
        ------
        FileNotFoundError
            If ``run.json``, or ``hall_of_fame.csv`` of a finished run, is
            missing.
        lawfinder.runfiles.RunFileError
            If a file is not one this version of lawfinder can read: not
            JSON, a newer ``format_version``, missing entries, or parameters
            this estimator does not have.

        Examples
        --------
        >>> model = SymbolicRegressor.from_run("my_run")  # doctest: +SKIP
        >>> model.predict(X_new)  # doctest: +SKIP
        >>> model.set_params(warm_start=True).fit(X, y)  # doctest: +SKIP
        """
        from .runfiles import (
            RUN_INFO_KEYS,
            read_hall_of_fame,
            read_run_record,
            read_state,
        )

        record = read_run_record(folder)
        model = cls(**_recorded_parameters(cls, record, folder))
        model._run_info = {key: record.get(key) for key in RUN_INFO_KEYS}
        if record.get("state_file"):
            model._search_state = read_state(folder)
        if record["status"] != "finished":
            warnings.warn(
                f"the run in {folder} did not finish: it holds a checkpoint of "
                f"{record['n_iterations']} iterations but no equations, so the "
                "estimator is not fitted; fit it on the same data with "
                "warm_start=True to continue the search",
                UserWarning,
                stacklevel=2,
            )
            return model
        model._restore_fit(record, read_hall_of_fame(folder), folder)
        return model

    def _restore_fit(self, record: dict, table: pd.DataFrame, folder) -> None:
        """Set the fitted attributes from a run's record and hall of fame."""
        from .runfiles import HALL_OF_FAME_FILE, RunFileError

        names = tuple(record["variable_names"])
        errors = (
            table["constant_errors"].tolist()
            if "constant_errors" in table.columns
            else [""] * len(table)
        )
        expressions = []
        for row, (text, error_text) in enumerate(
            zip(table["equation"], errors, strict=True)
        ):
            try:
                expressions.append(
                    _with_errors(Expression.from_string(text, names), error_text)
                )
            except ValueError as error:
                raise RunFileError(
                    f"{folder}/{HALL_OF_FAME_FILE}, row {row + 1}: cannot read "
                    f"the equation {text!r} over {list(names)}: {error}"
                ) from None
        complexities = table["complexity"].astype(int).tolist()
        losses = table["loss"].astype(float).tolist()

        self.variable_names_ = names
        self.n_features_in_ = int(record["n_features_in"])
        if record.get("feature_names_in") is not None:
            self.feature_names_in_ = np.asarray(record["feature_names_in"], object)
        self.findings_ = list(record.get("findings") or [])
        self.equations_ = pd.DataFrame(
            {
                "complexity": complexities,
                "dof": [expression.n_constants for expression in expressions],
                "loss": losses,
                "score": table["score"].astype(float).tolist(),
                "equation": [str(expression) for expression in expressions],
                "constants": [_constants_text(e) for e in expressions],
                "sympy_format": [expression.to_sympy() for expression in expressions],
                "expression": expressions,
            },
            columns=list(EQUATION_COLUMNS),
        )
        self.best_index_ = int(np.flatnonzero(table["chosen"].to_numpy())[0])
        self.best_ = self.equations_["expression"].iloc[self.best_index_]
        self.search_result_ = SearchResult(
            hall_of_fame=[
                HallOfFameEntry(
                    opcodes=np.array(expression.opcodes),
                    arguments=np.array(expression.arguments),
                    constants=np.array(expression.constants),
                    complexity=complexity,
                    loss=loss,
                    constant_errors=np.array(expression.constant_errors),
                )
                for expression, complexity, loss in zip(
                    expressions, complexities, losses, strict=True
                )
            ],
            n_evals=int(record["n_evals"]),
            n_iterations=int(record["n_iterations"]),
            elapsed=float(record["elapsed_seconds"]),
            stopped_by=str(record.get("stopped_by") or ""),
            timings=dict(record.get("timings") or {}),
            seed=record.get("seed"),
            state=getattr(self, "_search_state", None),
        )
        self.n_evals_ = self.search_result_.n_evals

    def _fit_record(self, data: FitData, y, X_units, y_units, initial_state) -> dict:
        """What run.json records of this fit besides the parameters.

        The budget counts the runs this fit continues, so that a run resumed
        after a crash can tell how much of it is left.
        """
        from .search.checkpoint import data_fingerprint

        def total(limit, start):
            return None if limit is None else start + limit

        if initial_state is None:
            iteration, elapsed, n_evals = 0, 0.0, 0
        else:
            state = initial_state
            iteration, elapsed, n_evals = state.iteration, state.elapsed, state.n_evals
        return {
            "data_sha256": data_fingerprint(data.X, data.y, data.weights),
            "budget": {
                "niterations": total(self.niterations, iteration),
                "timeout": total(self.timeout, elapsed),
                "max_evals": total(self.max_evals, n_evals),
            },
            "variable_names": list(data.variable_names),
            "n_features_in": int(data.X.shape[1]),
            "feature_names_in": (
                list(self.feature_names_in_)
                if hasattr(self, "feature_names_in_")
                else None
            ),
            "target_name": _target_name(y),
            "units": (
                None
                if X_units is None and y_units is None
                else {"X": X_units, "y": y_units}
            ),
        }

    def _checkpoint_writer(self):
        """The hook that saves the running search, or None without a folder."""
        if self.checkpoint_folder is None:
            return None
        from .runfiles import CheckpointWriter, running_record

        return CheckpointWriter(
            self.checkpoint_folder, self.checkpoint_seconds, running_record(self)
        )

    def plot_pareto(self, ax=None):
        """Draw loss against complexity for the Pareto front, the chosen one marked.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Where to draw; None draws on a new pyplot figure.

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> model.plot_pareto().figure.savefig("pareto.png")  # doctest: +SKIP
        """
        # Imported here: `import lawfinder` need not load matplotlib.
        from .plotting import plot_pareto

        return plot_pareto(self, ax=ax)

    def plot_fit(self, X, y, index=None, axes=None, residuals_against="truth"):
        """Draw an equation's prediction and residuals against the true ``y``.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_rows, n_features)
            Features, with the same columns as in `fit`.
        y : array-like of shape (n_rows,)
            True values of the target.
        index : int, default=None
            Row of ``equations_`` to draw; None means ``best_index_``.
        axes : sequence of two matplotlib.axes.Axes, default=None
            Where to draw the prediction and residual panels; None draws on a
            new pyplot figure.
        residuals_against : {"truth", "prediction"}, default="truth"
            Horizontal axis of the residual panel.

        Returns
        -------
        ndarray of shape (2,) of matplotlib.axes.Axes

        Examples
        --------
        >>> axes = model.plot_fit(X, y, index=2)  # doctest: +SKIP
        """
        from .plotting import plot_fit

        return plot_fit(
            self, X, y, index=index, axes=axes, residuals_against=residuals_against
        )

    def _html_repr(self) -> str:
        """Notebook view: the Pareto front table once fitted, then sklearn's diagram."""
        diagram = super()._html_repr()
        try:
            check_is_fitted(self)
        except NotFittedError:
            return diagram
        from .plotting import pareto_front_html

        return pareto_front_html(self) + diagram

    def _checked_callbacks(self) -> tuple:
        callbacks = tuple(self.callbacks or ())
        for callback in callbacks:
            if not callable(getattr(callback, "on_iteration", callback)):
                raise TypeError(
                    "each callback must be a function of the search state or "
                    f"have a method on_iteration(state); got {callback!r}"
                )
        return callbacks

    def _search_options(self) -> SearchOptions:
        """Map the estimator's parameters onto the search's options."""
        return SearchOptions(
            binary_operators=_operator_names(
                self.binary_operators, DEFAULT_BINARY_OPERATORS
            ),
            unary_operators=_operator_names(
                self.unary_operators, DEFAULT_UNARY_OPERATORS
            ),
            maxsize=int(self.maxsize),
            maxdepth=None if self.maxdepth is None else int(self.maxdepth),
            allow_nesting=bool(self.allow_nesting),
            simplify=bool(self.simplify),
            populations=int(self.populations),
            population_size=int(self.population_size),
            niterations=None if self.niterations is None else int(self.niterations),
            timeout=None if self.timeout is None else float(self.timeout),
            max_evals=None if self.max_evals is None else int(self.max_evals),
            loss_threshold=(
                None if self.loss_threshold is None else float(self.loss_threshold)
            ),
            parsimony=float(self.parsimony),
            alpha=float(self.alpha),
            unit_penalty=float(self.unit_penalty),
            n_jobs=_effective_n_jobs(self.n_jobs),
            random_state=_seed(self.random_state),
        )

    def _equations_table(self, result: SearchResult, data: FitData) -> pd.DataFrame:
        """One row per equation of the Pareto front, simplest first."""
        front = pareto_front(
            result.hall_of_fame, _loss_floor(data), rtol=_MIN_RELATIVE_IMPROVEMENT
        )
        if not front:
            raise RuntimeError(
                "the search found no equation with a finite loss on this data; "
                "check the data's scale or allow more operators and iterations"
            )

        expressions = [
            Expression(
                entry.opcodes,
                entry.arguments,
                entry.constants,
                data.variable_names,
                constant_errors=entry.constant_errors,
            )
            for entry in front
        ]
        losses = [float(entry.loss) for entry in front]
        complexities = [int(entry.complexity) for entry in front]

        return pd.DataFrame(
            {
                "complexity": complexities,
                "dof": [entry.n_constants for entry in front],
                "loss": losses,
                "score": scores(losses, complexities, _loss_floor(data)),
                "equation": [str(expression) for expression in expressions],
                "constants": [
                    _constants_text(expression) for expression in expressions
                ],
                "sympy_format": [expression.to_sympy() for expression in expressions],
                "expression": expressions,
            },
            columns=list(EQUATION_COLUMNS),
        )

    def _expression_at(self, index) -> Expression:
        """The Expression in row ``index`` of ``equations_``, or the chosen one."""
        if index is None:
            return self.best_
        n_rows = len(self.equations_)
        if isinstance(index, bool) or not isinstance(index, Integral):
            raise TypeError(
                f"index must be an integer row of equations_ or None, got {index!r}"
            )
        if not -n_rows <= index < n_rows:
            raise IndexError(
                f"index {index} is out of range: equations_ has {n_rows} rows, "
                f"0 to {n_rows - 1}"
            )
        return self.equations_["expression"].iloc[int(index)]

    def _summary(self) -> str:
        """A few lines on how the search went and which equation was chosen."""
        result = self.search_result_
        table = self.equations_[["complexity", "loss", "score", "equation"]]
        best = self.equations_.iloc[self.best_index_]
        return "\n".join(
            [
                f"lawfinder: {result.n_evals} evaluations in {result.elapsed:.3g} s, "
                f"{result.n_iterations} iterations, stopped by {result.stopped_by}",
                table.to_string(index=True, float_format="{:.4g}".format),
                f"chosen (model_selection={self.model_selection!r}): row "
                f"{self.best_index_}, complexity {best['complexity']}: "
                f"{best['equation']}",
            ]
        )

    def latex_table(self, indices=None, target_name="y", precision=None):
        r"""Return the Pareto front as a LaTeX table, constants with uncertainties.

        See `lawfinder.export.latex_table`: a booktabs ``tabular`` with the
        columns complexity, DoF, equation and loss, each constant printed as
        ``1.086(11)``.

        Parameters
        ----------
        indices : sequence of int, default=None
            Rows of ``equations_`` to show; None shows them all.
        target_name : str, default="y"
            Left-hand side of each equation.
        precision : int, default=None
            Significant digits of constants whose uncertainty is unknown or
            zero; all of them when None.

        Returns
        -------
        str

        Examples
        --------
        >>> print(model.latex_table())  # doctest: +SKIP
        """
        check_is_fitted(self)
        return latex_table(self.equations_, indices, target_name, precision)

    def numpy(self, index=None):
        """Return an equation of the front as a numpy function ``f(X)``.

        Parameters
        ----------
        index : int, default=None
            Row of ``equations_``; None means ``best_index_``.

        Returns
        -------
        lawfinder.export.NumpyFunction
            ``f(X)`` with ``X`` a 2-D array of shape (n_rows, n_features)
            returns the predictions, of shape (n_rows,).

        Examples
        --------
        >>> f = model.numpy()  # doctest: +SKIP
        >>> f(X[:3])  # doctest: +SKIP
        """
        check_is_fitted(self)
        return to_numpy(self._expression_at(index))

    def pytorch(self, index=None):
        """Return an equation of the front as a PyTorch module.

        Needs PyTorch (``pip install torch``). The constants are a trainable
        ``torch.nn.Parameter``, ``module.constants``, in float64.

        Parameters
        ----------
        index : int, default=None
            Row of ``equations_``; None means ``best_index_``.

        Returns
        -------
        torch.nn.Module
            ``module(X)`` with ``X`` a tensor of shape (n_rows, n_features)
            returns the predictions, of shape (n_rows,).

        Raises
        ------
        ImportError
            If PyTorch is not installed.

        Examples
        --------
        >>> module = model.pytorch()  # doctest: +SKIP
        >>> module(torch.from_numpy(X))  # doctest: +SKIP
        """
        check_is_fitted(self)
        return to_torch(self._expression_at(index))

    def jax(self, index=None):
        """Return an equation of the front as a JAX function and its constants.

        Needs JAX (``pip install jax``). JAX computes in float32 unless
        ``jax_enable_x64`` is set.

        Parameters
        ----------
        index : int, default=None
            Row of ``equations_``; None means ``best_index_``.

        Returns
        -------
        function : callable
            ``function(X, constants)``, pure and jittable, returns the
            predictions for ``X`` of shape (n_rows, n_features).
        constants : jax.Array of shape (n_constants,)
            The fitted constants.

        Raises
        ------
        ImportError
            If JAX is not installed.

        Examples
        --------
        >>> function, constants = model.jax()  # doctest: +SKIP
        >>> jax.jit(function)(X, constants)  # doctest: +SKIP
        """
        check_is_fitted(self)
        return to_jax(self._expression_at(index))


def _constants_text(expression: Expression) -> str:
    """Constants as ``1.086(11), 2.300(40)``, in the order the equation shows them."""
    is_constant = expression.opcodes == CONSTANT
    slots = dict.fromkeys(expression.arguments[is_constant].tolist())
    return ", ".join(
        format_uncertainty(expression.constants[slot], expression.constant_errors[slot])
        for slot in slots
    )


def _recorded_parameters(cls, record: dict, folder) -> dict:
    """The estimator parameters recorded in a run's run.json."""
    from .runfiles import RUN_FILE, RunFileError

    parameters = dict(record["parameters"])
    unknown = sorted(set(parameters) - set(cls._get_param_names()))
    if unknown:
        raise RunFileError(
            f"{folder}/{RUN_FILE} records parameters {unknown} that "
            f"{cls.__name__} does not have; allowed: "
            f"{', '.join(cls._get_param_names())}"
        )
    random_state = parameters.get("random_state")
    if random_state is not None and not isinstance(random_state, int):
        # A RandomState object was recorded as text; its draw is the seed.
        parameters["random_state"] = record.get("seed")
    return parameters


def _with_errors(expression: Expression, text) -> Expression:
    """``expression`` with the standard errors written in ``text`` (one per
    constant, space-separated); unknown errors where they do not match."""
    try:
        errors = [float(word) for word in str(text).split()]
    except ValueError:
        errors = []
    if len(errors) != expression.n_constants:
        return expression
    return Expression(
        expression.opcodes,
        expression.arguments,
        expression.constants,
        expression.variable_names,
        constant_errors=errors,
    )


def _operator_names(names, default: tuple[str, ...]) -> tuple[str, ...]:
    return default if names is None else tuple(names)


def _effective_n_jobs(n_jobs) -> int:
    if n_jobs is None:
        return 1
    if n_jobs == -1:
        return os.cpu_count() or 1
    return int(n_jobs)


def _seed(random_state) -> int | None:
    """An int seed for the search; None leaves the search to draw its own."""
    if random_state is None:
        return None
    if isinstance(random_state, Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _checked_units(X_units, y_units, n_features: int):
    """Units of the features and target as exponent arrays, or None."""
    if X_units is None and y_units is None:
        return None
    if X_units is None or y_units is None:
        raise ValueError(
            "give both X_units and y_units for dimensional analysis, or neither; "
            f"got X_units={X_units!r} and y_units={y_units!r}"
        )
    D, d_y = units_matrix(X_units, y_units, n_features)
    dimensional_analysis(D, d_y)  # raises if no product of X has the units of y
    return Units(D=D, d_y=d_y)


def _target_name(y) -> str:
    """The name of a pandas Series target, else ``"y"``."""
    name = getattr(y, "name", None)
    return name if isinstance(name, str) and name else "y"


def _alphabet_size(options: SearchOptions, n_features: int) -> int:
    """Symbols a program is written in: operators, variables and a constant."""
    return len(options.binary_operators) + len(options.unary_operators) + n_features + 1


def _loss_floor(data: FitData) -> float:
    """Loss below which equations count as exact fits when choosing among them."""
    mean_square = np.average(data.y**2, weights=data.weights)
    return max(float(_RELATIVE_LOSS_FLOOR * mean_square), TINY_LOSS)
