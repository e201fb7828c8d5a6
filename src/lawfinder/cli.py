"""The ``lawfinder`` command line: fit a CSV file, run the demo, run benchmarks.

``lawfinder fit data.csv --target y`` searches for a formula for column ``y``,
shows the search as it runs, saves checkpoints to a run folder while it runs,
writes ``hall_of_fame.csv``, ``run.json``, ``search_state.npz`` and two plots
there at the end and prints the Pareto front; ``--resume`` continues a run
from its last checkpoint. Ctrl-C and SIGTERM stop the search early and keep
what it found. ``lawfinder demo`` rediscovers Kepler's third law from the
orbits of the planets. Exit status: 0 on success, 2 on bad input (a one-line
``error: ...`` on standard error), 130 when interrupted before there was
anything to save.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import secrets
import signal
import sys
import time
import warnings
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

BENCHMARKS = ("feynman", "throughput")

# Seconds between two checkpoints of `lawfinder fit`: a crash loses at most this.
CHECKPOINT_SECONDS = 60.0

# Options that --resume takes from the run instead (the data must match too).
_RESUME_FIXED = (
    "binary_operators",
    "unary_operators",
    "maxsize",
    "allow_nesting",
    "simplify",
    "strategies",
    "unit_penalty",
    "niterations",
    "timeout",
    "seed",
    "jobs",
    "units",
)

# Defaults of the search quoted in the help; a test keeps them in step.
SHOWN_DEFAULTS = {
    "niterations": 100,
    "maxsize": 30,
    "n_jobs": 1,
    "binary_operators": ("add", "sub", "mul", "div"),
    "unary_operators": ("neg", "square", "sqrt", "exp", "log", "sin", "cos"),
}

# Semi-major axes (AU): JPL, "Keplerian Elements for Approximate Positions of the
# Major Planets" (E. M. Standish), Table 1, epoch J2000. Sidereal orbital periods:
# NASA NSSDC Planetary Fact Sheets, converted from days to Julian years (365.25 d).
PLANETS_FILE = "planets.csv"

# Kepler's law is checked well beyond the data (0.39 to 39.5 AU), so a curve that
# only interpolates the nine bodies does not pass for the law.
KEPLER_CHECK_RANGE_AU = (0.1, 100.0)
KEPLER_TOLERANCE = 0.01

# Ample for the law to appear (a few seconds); the timeout keeps the demo under
# a minute on a slow machine.
DEMO_NITERATIONS = 10
DEMO_TIMEOUT = 30.0
# Planetary orbits deviate from a^1.5 by up to 0.06 %, and "best" then prefers
# longer equations that fit those deviations; "score" picks where the loss
# stops falling fast, the law itself.
DEMO_MODEL_SELECTION = "score"
# Keeps the printed front to a few lines; the law needs a complexity of 4.
DEMO_MAXSIZE = 12


class InputError(Exception):
    """Bad input from the user: reported as ``error: ...`` with exit status 2."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success, 2 on bad input, 130 if interrupted
        before any result existed.

    Examples
    --------
    >>> main(["demo", "--timeout", "20"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lawfinder`` and its subcommands."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="lawfinder",
        description="Symbolic regression for physicists: find the formula behind data.",
    )
    parser.add_argument(
        "--version", action="version", version=f"lawfinder {__version__}"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "fit",
        help="search for a formula for one column of a CSV file",
        description="Search for a formula for the target column of a CSV file.",
    )
    fit.add_argument("data", type=Path, help="CSV file with a header row")
    fit.add_argument(
        "--target", "-t", required=True, metavar="COLUMN", help="column to explain"
    )
    fit.add_argument(
        "--features",
        type=_names,
        metavar="COLUMNS",
        help="comma-separated columns to use (default: every other numeric column)",
    )
    fit.add_argument(
        "--units",
        metavar="UNITS",
        help="units of the features and the target, for dimensional analysis: "
        "name=unit pairs such as m=kg,a=m/s^2,F=kg*m/s^2 (pint names, 1 for "
        "none), or a file with one name,unit per line",
    )
    fit.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FOLDER",
        help="run folder for hall_of_fame.csv, run.json, the search state and "
        "the plots (default: a new lawfinder_run_<timestamp> folder here)",
    )
    fit.add_argument(
        "--checkpoint-every",
        type=_non_negative_float,
        default=CHECKPOINT_SECONDS,
        metavar="SECONDS",
        help="save the search state to the run folder at most this often, so "
        "that a crash loses at most this much of the search; 0 saves after "
        "every iteration (default: %(default)g)",
    )
    fit.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output FOLDER from its last checkpoint, "
        "with its settings and the iterations and time it had left; the data "
        "must be the same",
    )
    _add_search_options(fit)
    fit.set_defaults(run=_fit_command)

    demo = commands.add_parser(
        "demo",
        help="rediscover Kepler's third law from the orbits of the planets",
        description="Fit the orbital period of the planets and Pluto from their "
        "semi-major axis, and check the result against Kepler's third law.",
    )
    demo.add_argument(
        "--timeout",
        type=_positive_float,
        default=DEMO_TIMEOUT,
        metavar="SECONDS",
        help="stop after this many seconds (default: %(default)s)",
    )
    demo.add_argument(
        "--seed", type=int, default=0, help="random seed (default: %(default)s)"
    )
    demo.set_defaults(run=_demo_command)

    bench = commands.add_parser(
        "bench",
        help="run a benchmark",
        description="Run a benchmark; the arguments after its name are its own.",
    )
    bench.add_argument("benchmark", choices=BENCHMARKS, help="which benchmark")
    bench.add_argument(
        "arguments", nargs=argparse.REMAINDER, help="arguments of the benchmark"
    )
    bench.set_defaults(run=_bench_command)
    return parser


def _add_search_options(parser: argparse.ArgumentParser) -> None:
    # Unset options are not passed on, so the estimator's own defaults apply;
    # importing the estimator here would slow down every command.
    group = parser.add_argument_group("search")
    group.add_argument(
        "--niterations",
        type=_positive_int,
        metavar="N",
        help=f"iterations of the search (default: {SHOWN_DEFAULTS['niterations']})",
    )
    group.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="stop after this many seconds",
    )
    group.add_argument(
        "--maxsize",
        type=_positive_int,
        metavar="N",
        help="largest complexity of an equation "
        f"(default: {SHOWN_DEFAULTS['maxsize']})",
    )
    group.add_argument(
        "--binary-operators",
        type=_operators(arity=2),
        metavar="OPERATORS",
        help="comma-separated, e.g. +,-,*,/ (default: "
        f"{','.join(SHOWN_DEFAULTS['binary_operators'])}); "
        "write --binary-operators=-,+ when the list starts with a minus",
    )
    group.add_argument(
        "--unary-operators",
        type=_operators(arity=1),
        metavar="OPERATORS",
        help="comma-separated, e.g. sqrt,exp,log; an empty string for none "
        f"(default: {','.join(SHOWN_DEFAULTS['unary_operators'])})",
    )
    group.add_argument(
        "--allow-nesting",
        action="store_true",
        default=None,
        help="let exp, log, sin, cos, tan and tanh appear inside one another, "
        "as in sin(exp(x)) (default: not allowed)",
    )
    group.add_argument(
        "--no-simplify",
        dest="simplify",
        action="store_false",
        default=None,
        help="keep the equations as the search found them, without sympy's "
        "rewrites (default: simplify)",
    )
    group.add_argument(
        "--strategies",
        type=_strategies,
        metavar="LIST",
        help="physics priors to use, comma-separated from units, brute_force, "
        "structure, transforms, snap; 'none' for none (default: all)",
    )
    group.add_argument(
        "--unit-penalty",
        type=_non_negative_float,
        metavar="P",
        help="with --units and without the units strategy, added to a "
        "candidate's score for each inconsistent use of units; 0 for none "
        "(default: 0.1)",
    )
    group.add_argument(
        "--seed",
        type=int,
        help="random seed; with one job, the same seed gives the same result "
        "(default: a random one, recorded in run.json)",
    )
    group.add_argument(
        "--jobs",
        "-j",
        type=_positive_int,
        metavar="N",
        help=f"threads running islands (default: {SHOWN_DEFAULTS['n_jobs']})",
    )


def _fit_command(args: argparse.Namespace) -> int:
    from . import SymbolicRegressor

    if args.resume:
        return _resume_command(args)

    X, y = load_table(args.data, args.target, args.features)
    folder, created = _prepare_run_folder(args.output)
    console = _console()
    _say(
        console,
        f"Fitting {args.target} from {', '.join(X.columns)} ({len(X)} rows); "
        f"results go to {folder}",
    )

    # A drawn seed, not None, so that run.json says how to repeat the run.
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    settings = {
        "binary_operators": args.binary_operators,
        "unary_operators": args.unary_operators,
        "maxsize": args.maxsize,
        "allow_nesting": args.allow_nesting,
        "simplify": args.simplify,
        "strategies": args.strategies,
        "unit_penalty": args.unit_penalty,
        "niterations": args.niterations,
        "timeout": args.timeout,
        "n_jobs": args.jobs,
    }
    regressor = SymbolicRegressor(
        random_state=seed,
        checkpoint_folder=str(folder),
        checkpoint_seconds=args.checkpoint_every,
        **{name: value for name, value in settings.items() if value is not None},
    )
    try:
        try:
            units = _units_for(args.units, list(X.columns), args.target)
            if units is not None:
                _check_units(units, len(X.columns))
        except ValueError as error:
            raise InputError(str(error)) from None
        _search(regressor, X, y, console, units)
    except BaseException:
        if created:
            _remove_if_empty(folder)
        raise
    return _finish_fit(regressor, X, y, args, folder, console)


def _resume_command(args: argparse.Namespace) -> int:
    """Continue the run in ``args.output`` from its last checkpoint."""
    from .runfiles import RunFileError, read_run_record

    folder = args.output
    if folder is None:
        raise InputError("--resume continues the run in --output FOLDER; name it")
    given = [
        f"--{name.replace('_', '-')}"
        for name in _RESUME_FIXED
        if getattr(args, name, None) is not None
    ]
    if given:
        raise InputError(
            f"--resume continues with the settings of the run in {folder}; "
            f"leave out {', '.join(given)}"
        )
    try:
        record = read_run_record(folder)
    except (OSError, RunFileError) as error:
        raise InputError(f"cannot resume: {error}") from None
    if record["status"] == "finished" and record.get("stopped_by") != "interrupt":
        _say(
            _console(),
            f"The run in {folder} already finished (stopped by "
            f"{record.get('stopped_by')}); nothing to resume.",
        )
        return EXIT_OK

    features = args.features or list(record["variable_names"])
    X, y = load_table(args.data, args.target, features)
    _check_same_data(X, y, args, record)
    regressor, state = _regressor_from_run(folder)
    left = _budget_left(record["budget"], state)
    regressor.set_params(
        warm_start=True,
        checkpoint_folder=str(folder),
        checkpoint_seconds=args.checkpoint_every,
        **left,
    )

    console = _console()
    _say(
        console,
        f"Resuming the run in {folder} after {state.iteration} iterations and "
        f"{state.n_evals:,} evaluations: {_describe_left(left)} left",
    )
    units = record.get("units")
    units = None if units is None else (units["X"], units["y"])
    _search(regressor, X, y, console, units)
    resumed_from = {"n_iterations": state.iteration, "n_evals": state.n_evals}
    return _finish_fit(regressor, X, y, args, folder, console, resumed_from)


def _check_same_data(X, y, args, record) -> None:
    """Raise an InputError unless X and y are the data the run was fitted on."""
    from .search.checkpoint import data_fingerprint

    target = record.get("target_name")
    if target is not None and target != args.target:
        raise InputError(
            f"the run in {args.output} explains {target!r}, not {args.target!r}; "
            f"resume it with --target {target}"
        )
    fingerprint = data_fingerprint(X.to_numpy(float), y.to_numpy(float))
    if fingerprint != record["data_sha256"]:
        raise InputError(
            f"the data in {args.data} (columns {', '.join(X.columns)} and "
            f"{args.target}, {len(X)} rows) are not those the run in "
            f"{args.output} was fitted on (their SHA-256 differs); resume with "
            "the same file and columns, or start a new run in another folder"
        )


def _regressor_from_run(folder):
    """The run's regressor and the search state it continues from."""
    from . import SymbolicRegressor
    from .runfiles import STATE_FILE, RunFileError

    try:
        with warnings.catch_warnings():
            # A crashed run is not fitted; it is about to be.
            warnings.simplefilter("ignore", UserWarning)
            regressor = SymbolicRegressor.from_run(folder)
    except (OSError, RunFileError) as error:
        raise InputError(f"cannot resume: {error}") from None
    state = getattr(regressor, "_search_state", None)
    if state is None:
        raise InputError(f"cannot resume: {folder} holds no {STATE_FILE}")
    return regressor, state


def _budget_left(budget: dict, state) -> dict:
    """The iterations, seconds and evaluations the run has left.

    A run that had used up a limit when it stopped (it crashed while writing
    its results) gets one more iteration, so that it ends with its files.
    """
    left = {}
    if budget.get("niterations") is not None:
        left["niterations"] = max(1, int(budget["niterations"]) - state.iteration)
    if budget.get("timeout") is not None:
        left["timeout"] = max(1.0, float(budget["timeout"]) - state.elapsed)
    if budget.get("max_evals") is not None:
        left["max_evals"] = max(1, int(budget["max_evals"]) - state.n_evals)
    return left


def _describe_left(left: dict) -> str:
    parts = []
    if "niterations" in left:
        parts.append(f"{left['niterations']} iterations")
    if "timeout" in left:
        parts.append(f"{left['timeout']:.0f} s")
    if "max_evals" in left:
        parts.append(f"{left['max_evals']:,} evaluations")
    return ", ".join(parts) or "no limit"


def _finish_fit(regressor, X, y, args, folder, console, resumed_from=None) -> int:
    """Write the run files and plots, and print the front."""
    from .runfiles import write_run

    for text in regressor.findings_:
        _say(console, text)

    data = {
        "path": str(args.data.resolve()),
        "target": args.target,
        "features": list(X.columns),
        "n_rows": len(X),
    }
    extra = {"command": "fit", "data": data}
    if resumed_from is not None:
        extra["resumed_from"] = resumed_from
    paths = write_run(folder, regressor, extra=extra)
    written = [paths["hall_of_fame"], paths["run"]]
    try:
        from .plotting import write_plots

        written += list(write_plots(folder, regressor, X, y).values())
    except Exception as error:  # the results are saved; the pictures are extra
        print(f"note: could not draw the plots: {error}", file=sys.stderr)
    _report(regressor, args.target, console)
    _say(console, f"Wrote {', '.join(map(str, written))}")
    return EXIT_OK


def _demo_command(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import SymbolicRegressor

    planets = _read_planets()
    X = pd.DataFrame({"a": planets["semi_major_axis_au"]})
    y = planets["period_years"].rename("P")
    console = _console()
    _say(
        console,
        "Kepler's third law from real orbits: the period P (years) of the eight "
        "planets and Pluto as a function of their semi-major axis a (AU).",
    )

    regressor = SymbolicRegressor(
        niterations=DEMO_NITERATIONS,
        timeout=args.timeout,
        maxsize=DEMO_MAXSIZE,
        model_selection=DEMO_MODEL_SELECTION,
        random_state=args.seed,
    )
    _search(regressor, X, y, console)
    _report(regressor, "P", console)

    matches, verdict = kepler_verdict(regressor)
    _say(console, verdict, style="bold green" if matches else "bold yellow")
    return EXIT_OK


def kepler_verdict(regressor) -> tuple[bool, str]:
    """Whether the chosen equation is Kepler's third law, and a sentence saying so.

    An equation follows the law if ``P / a**1.5`` is the same constant, within
    ``KEPLER_TOLERANCE``, for every semi-major axis ``a`` in
    ``KEPLER_CHECK_RANGE_AU``. If the chosen equation does not, the sentence
    names the simplest equation of the front that does, if any.
    """
    low, high = KEPLER_CHECK_RANGE_AU
    span = f"from a = {low:g} to {high:g} AU"
    spread, constant = _kepler_spread(regressor, None)
    if spread <= KEPLER_TOLERANCE:
        return True, (
            f"Matches Kepler's third law: P^2 / a^3 = {constant:.4f} yr^2/AU^3, "
            f"constant within {spread:.2%} {span}."
        )

    verdict = (
        "The chosen equation does not follow Kepler's third law: "
        f"P / a^1.5 varies by {spread:.1%} {span}."
    )
    for index in range(len(regressor.equations_)):
        if _kepler_spread(regressor, index)[0] <= KEPLER_TOLERANCE:
            equation = regressor.equations_["equation"].iloc[index]
            verdict += f" The simpler P = {equation} on the front does."
            break
    return False, verdict


def _kepler_spread(regressor, index) -> tuple[float, float]:
    """Relative spread of ``P / a**1.5`` over the check range, and its mean square.

    The spread is infinite where the equation is not finite and positive.
    """
    import numpy as np
    import pandas as pd

    axis = np.geomspace(*KEPLER_CHECK_RANGE_AU, 61)
    with np.errstate(all="ignore"):
        period = regressor.predict(pd.DataFrame({"a": axis}), index=index)
        ratio = period / axis**1.5
    if not np.all(np.isfinite(ratio) & (ratio > 0)):
        return np.inf, np.nan
    return float(ratio.max() / ratio.min() - 1.0), float(np.mean(ratio) ** 2)


def _bench_command(args: argparse.Namespace) -> int:
    module_name = f"lawfinder.bench.{args.benchmark}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name in ("lawfinder.bench", module_name):
            print(
                f"error: the {args.benchmark} benchmark is not part of this "
                f"installation of lawfinder ({module_name} is missing)",
                file=sys.stderr,
            )
        else:
            print(
                f"error: the {args.benchmark} benchmark needs {error.name!r}; "
                "install it with: pip install 'lawfinder[bench]'",
                file=sys.stderr,
            )
        return EXIT_FAILED
    status = module.main(args.arguments)
    return EXIT_OK if status is None else int(status)


def load_table(path: Path, target: str, features: list[str] | None = None):
    """Read a CSV file and return the features and target for a fit.

    Parameters
    ----------
    path : pathlib.Path
        CSV file with a header row.
    target : str
        Name of the column to explain.
    features : list of str, optional
        Columns to explain it with. Defaults to every other numeric column;
        the non-numeric ones left out are named in a note on standard error.

    Returns
    -------
    X : pandas.DataFrame of shape (n_rows, n_features)
    y : pandas.Series of shape (n_rows,)

    Raises
    ------
    InputError
        If the file cannot be read, a column is missing or not numeric, or the
        values fail the checks of ``fit`` (missing values, too few rows, column
        names that cannot be variable names).
    """
    import pandas as pd

    table = _read_csv(path)
    available = "available columns: " + ", ".join(map(str, table.columns))

    if target not in table.columns:
        raise InputError(f"target column {target!r} is not in {path}; {available}")
    if features is None:
        features = [str(name) for name in table.columns if name != target]
        text = [name for name in features if not _is_numeric(table[name])]
        if text:
            print(
                f"note: leaving out non-numeric column(s) {', '.join(text)}; "
                "choose the features with --features",
                file=sys.stderr,
            )
        features = [name for name in features if name not in text]
        if not features:
            raise InputError(
                f"no numeric feature columns besides {target!r}; {available}"
            )
    else:
        missing = [name for name in features if name not in table.columns]
        if missing:
            names = ", ".join(map(repr, missing))
            raise InputError(f"feature column(s) {names} not in {path}; {available}")
        if target in features:
            raise InputError(f"the target {target!r} cannot also be a feature")
        if len(set(features)) < len(features):
            raise InputError(
                f"a feature is named twice in --features {','.join(features)}"
            )

    for name in [target, *features]:
        _check_numeric(table[name], name)

    X = table.loc[:, features].apply(pd.to_numeric)
    y = pd.to_numeric(table[target])
    from .validation import check_fit_data

    try:
        check_fit_data(X, y)
    except (ValueError, TypeError) as error:
        raise InputError(f"{path}: {error}") from None
    return X, y


def _read_csv(path: Path):
    import pandas as pd

    try:
        # skipinitialspace: "a, b, y" headers mean columns a, b and y.
        return pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a folder, not a CSV file") from None
    except PermissionError:
        raise InputError(f"no permission to read {path}") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise InputError(f"{path} is not a readable CSV file: {error}") from None


def _is_numeric(column) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_complex_dtype(
        column
    )


def _check_numeric(column, name: str) -> None:
    """Raise an ``InputError`` naming the first non-number in ``column``."""
    import pandas as pd

    if _is_numeric(column):
        return
    bad = pd.to_numeric(column, errors="coerce").isna() & column.notna()
    if not bad.any():
        return
    row = int(bad.to_numpy().argmax())
    # Line numbers of the file: the header is line 1.
    raise InputError(
        f"column {name!r} is not numeric: line {row + 2} holds {column.iloc[row]!r}"
    )


def _read_planets():
    """The demo data bundled with the package: the planets and Pluto."""
    from importlib import resources

    import pandas as pd

    with resources.files("lawfinder").joinpath("data", PLANETS_FILE).open() as stream:
        return pd.read_csv(stream)


def _search(regressor, X, y, console, units=None) -> None:
    """Fit ``regressor`` while a progress display follows the search."""
    from .progress import ProgressDisplay

    display = ProgressDisplay(list(X.columns), target_name=str(y.name), console=console)
    regressor.set_params(callbacks=[display])
    X_units, y_units = units if units is not None else (None, None)
    with _terminate_as_interrupt(), display:
        regressor.fit(X, y, X_units=X_units, y_units=y_units)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """Let SIGTERM stop the search as Ctrl-C does, keeping what it found."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except (AttributeError, ValueError):  # no SIGTERM, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _report(regressor, target_name: str, console) -> None:
    """Print the Pareto front, the chosen equation and why the search stopped."""
    from .progress import format_duration, pareto_front_table

    result = regressor.search_result_
    console.print(
        pareto_front_table(
            regressor.equations_,
            regressor.best_index_,
            target_name=target_name,
            title="Pareto front",
        )
    )
    _say(
        console,
        f"Stopped by {result.stopped_by} after {result.n_iterations} iterations, "
        f"{format_duration(result.elapsed)} and {result.n_evals:,} evaluations.",
    )
    _say(console, f"Chosen: {target_name} = {regressor.best_}", style="bold")


def _prepare_run_folder(output: Path | None) -> tuple[Path, bool]:
    """Make the run folder now, so a bad path fails before a long search.

    Returns the folder and whether this call created it.
    """
    try:
        if output is not None:
            created = not output.exists()
            output.mkdir(parents=True, exist_ok=True)
            return output, created

        stamp = time.strftime("%Y%m%d-%H%M%S")
        for attempt in range(1, 100):
            suffix = "" if attempt == 1 else f"-{attempt}"
            folder = Path(f"lawfinder_run_{stamp}{suffix}")
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return folder, True
    except OSError as error:
        raise InputError(f"cannot create the run folder: {error}") from None
    raise InputError(f"cannot create a new run folder lawfinder_run_{stamp}-N here")


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def _console():
    from rich.console import Console

    return Console()


def _say(console, text: str, style: str | None = None) -> None:
    """Print a message as it is: no markup, no highlighting, no hard wrapping."""
    console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one column name")
    return names


def _operators(arity: int):
    def parse(text: str) -> tuple[str, ...]:
        from .operators import resolve_operator

        names = tuple(name.strip() for name in text.split(",") if name.strip())
        for name in names:
            try:
                resolve_operator(name, arity=arity)
            except ValueError as error:
                raise argparse.ArgumentTypeError(str(error)) from None
        return names

    parse.__name__ = "operator list"
    return parse


def _strategies(text: str) -> list[str]:
    from .priors.pipeline import check_strategies

    names = [name.strip() for name in text.split(",") if name.strip()]
    if names == ["none"]:
        return []
    try:
        check_strategies(names)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return names


def _units_for(spec: str | None, features: list[str], target: str):
    """``(X_units, y_units)`` from ``--units``, or None without it.

    ``spec`` is a file with one ``name,unit`` (or ``name: unit``) per line, or
    an inline list ``name=unit,name=unit``.
    """
    if spec is None:
        return None
    path = Path(spec)
    if path.is_file():
        lines = path.read_text().splitlines()
        pairs = [
            line.replace(":", ",", 1).split(",", 1)
            for line in lines
            if line.strip() and not line.lstrip().startswith("#")
        ]
    else:
        pairs = [item.split("=", 1) for item in spec.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(
            f"--units takes name=unit pairs separated by commas (or a file with "
            f"one name,unit per line), such as m=kg,a=m/s^2,F=kg*m/s^2; got {spec!r}"
        )
    units = {name.strip(): unit.strip() for name, unit in pairs}
    missing = [name for name in [*features, target] if name not in units]
    if missing:
        raise ValueError(
            f"--units lacks the units of {missing}; give one for every feature "
            f"and the target ({', '.join([*features, target])})"
        )
    return [units[name] for name in features], units[target]


def _check_units(units, n_features: int) -> None:
    """Raise ValueError for units that dimensional analysis cannot use."""
    from .priors.units import dimensional_analysis, units_matrix

    D, d_y = units_matrix(units[0], units[1], n_features)
    dimensional_analysis(D, d_y)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
