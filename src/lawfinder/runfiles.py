"""The run folder: the files a finished or interrupted search leaves on disk.

A run folder holds ``hall_of_fame.csv`` (one row per complexity, readable in any
spreadsheet), ``run.json`` (format version, parameters, versions, seed, data
fingerprint, timings) and ``search_state.npz`` (the islands, the hall of fame,
the counters and the random generators, to continue the search; plain arrays,
no pickles). While a search runs, checkpoints replace ``search_state.npz`` and
``run.json`` (with ``"status": "running"``) every so often. Every file is
written atomically: to a temporary file in the same folder, flushed to disk,
then renamed over the target, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import time
import uuid
import zipfile
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .search.checkpoint import SearchSnapshot, snapshot_arrays, snapshot_from_arrays

logger = logging.getLogger("lawfinder")

HALL_OF_FAME_FILE = "hall_of_fame.csv"
RUN_FILE = "run.json"
STATE_FILE = "search_state.npz"
HALL_OF_FAME_COLUMNS = (
    "complexity",
    "dof",
    "loss",
    "score",
    "equation",
    "constant_errors",
    "chosen",
)
# Files written before the standard errors were stored lack this column.
_OPTIONAL_COLUMNS = ("constant_errors",)

# Version of the layout of run.json: raised when a reader of the old layout
# would misread the new one.
FORMAT_VERSION = 1
# What the estimator records of a fit besides its parameters (see
# running_record); from_run restores them.
RUN_INFO_KEYS = (
    "data_sha256",
    "budget",
    "variable_names",
    "n_features_in",
    "feature_names_in",
    "target_name",
    "units",
)
REQUIRED_RUN_KEYS = (
    "format_version",
    "status",
    "parameters",
    "variable_names",
    "n_features_in",
    "data_sha256",
    "budget",
    "n_iterations",
    "n_evals",
    "elapsed_seconds",
)

# Objects, not settings: they would only appear in run.json as memory addresses.
_UNRECORDED_PARAMETERS = ("callbacks",)


class RunFileError(ValueError):
    """A run-folder file that this version of lawfinder cannot read."""


def atomic_write_text(path: str | os.PathLike, text: str, encoding="utf-8") -> Path:
    """Write ``text`` to ``path`` so that readers see the old file or the new one.

    The text goes to a temporary file in the same folder (a rename is atomic only
    within one file system), is flushed to disk, and then replaces ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. Its folder must exist.
    text : str
        The whole new content.
    encoding : str, default "utf-8"
        Text encoding of the file.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_text(folder / "notes.txt", "P^2 = a^3\\n").read_text()
    'P^2 = a^3\\n'
    """

    def write(descriptor: int) -> None:
        with os.fdopen(descriptor, "w", encoding=encoding, newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())

    return _atomic_write(path, write)


def atomic_write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write ``arrays`` with ``numpy.savez`` so that readers see the old file or
    the new one.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write, usually ending in ``.npz``. Its folder must exist.
    arrays : mapping of str to ndarray
        The arrays, by name; none may need a pickle (no object arrays).

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "state.npz"
    >>> _ = atomic_write_npz(path, {"x": np.arange(3)})
    >>> np.load(path, allow_pickle=False)["x"]
    array([0, 1, 2])
    """
    for name, values in arrays.items():
        if np.asarray(values).dtype == object:
            raise TypeError(
                f"array {name!r} holds Python objects, which only a pickle can "
                "store; give numeric or text arrays"
            )

    def write(descriptor: int) -> None:
        with os.fdopen(descriptor, "wb") as stream:
            np.savez(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())

    return _atomic_write(path, write)


def _atomic_write(path, write: Callable[[int], None]) -> Path:
    """Call ``write`` on a new temporary file beside ``path``, then rename it."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")

    # 0o666 lets the umask decide the permissions, as for any ordinary new file.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        write(descriptor)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def hall_of_fame_table(regressor) -> pd.DataFrame:
    """The rows of ``hall_of_fame.csv`` for a fitted ``SymbolicRegressor``.

    Parameters
    ----------
    regressor : lawfinder.SymbolicRegressor
        A fitted estimator.

    Returns
    -------
    pandas.DataFrame
        Columns complexity, dof, loss, score, equation, constant_errors (the
        standard error of each constant of the equation, in the order they
        appear in it, space-separated, ``nan`` where unknown) and chosen (True
        on the row of the equation the estimator selected), one row per
        complexity.
    """
    equations = regressor.equations_
    table = equations.loc[:, ["complexity", "dof", "loss", "score", "equation"]].copy()
    table["constant_errors"] = [
        " ".join(repr(float(error)) for error in expression.constant_errors)
        for expression in equations["expression"]
    ]
    table["chosen"] = equations.index == regressor.best_index_
    return table.reset_index(drop=True)


def run_record(regressor, parameters=None, extra=None) -> dict:
    """The content of ``run.json`` for a fitted ``SymbolicRegressor``.

    Parameters
    ----------
    regressor : lawfinder.SymbolicRegressor
        A fitted estimator.
    parameters : mapping, optional
        The settings to record. Defaults to the estimator's ``get_params()``.
    extra : mapping, optional
        More top-level entries, for example where the data came from.

    Returns
    -------
    dict
        A JSON-ready dictionary; see `running_record` for the entries it
        shares with a checkpoint's ``run.json``.
    """
    result = regressor.search_result_
    record = running_record(regressor, parameters)
    record.update(
        {
            "status": "finished",
            "seed": result.seed,
            "n_evals": result.n_evals,
            "n_iterations": result.n_iterations,
            "elapsed_seconds": result.elapsed,
            "stopped_by": result.stopped_by,
            "timings": dict(result.timings),
            "state_file": STATE_FILE if result.state is not None else None,
            "findings": list(getattr(regressor, "findings_", [])),
            "chosen": {
                "index": regressor.best_index_,
                "equation": str(regressor.best_),
                "complexity": regressor.equations_.loc[
                    regressor.best_index_, "complexity"
                ],
            },
        }
    )
    record.update(extra or {})
    return _jsonable(record)


def running_record(regressor, parameters=None) -> dict:
    """The entries of ``run.json`` known when a fit starts.

    ``format_version``, ``status`` ("running" until the fit ends),
    ``created``, ``parameters``, ``random_state``, ``versions``, and what the
    estimator recorded of its fit (``regressor._run_info``): ``data_sha256``
    (see `lawfinder.search.checkpoint.data_fingerprint`), ``budget`` (the
    iterations, seconds and evaluations the whole search may reach, counting
    the runs it continues), ``variable_names``, ``n_features_in``,
    ``feature_names_in``, ``target_name`` and ``units``.

    Parameters
    ----------
    regressor : lawfinder.SymbolicRegressor
        An estimator whose fit has started.
    parameters : mapping, optional
        The settings to record. Defaults to the estimator's ``get_params()``.

    Returns
    -------
    dict
        A JSON-ready dictionary.
    """
    if parameters is None:
        parameters = regressor.get_params(deep=False)
    parameters = {
        name: value
        for name, value in parameters.items()
        if name not in _UNRECORDED_PARAMETERS
    }
    record = {
        "format_version": FORMAT_VERSION,
        "status": "running",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "random_state": getattr(regressor, "random_state", None),
        "variable_names": _variable_names(regressor),
        "versions": _versions(),
    }
    record.update(getattr(regressor, "_run_info", {}))
    return _jsonable(record)


def write_run(folder, regressor, parameters=None, extra=None) -> dict[str, Path]:
    """Write ``hall_of_fame.csv``, ``run.json`` and ``search_state.npz`` of a
    fitted regressor.

    Each file is replaced atomically, so an interrupted write leaves either the
    previous file or the new one, never a partial file. ``run.json`` comes
    last, so it never names a state that is not there yet.

    Parameters
    ----------
    folder : str or os.PathLike
        The run folder; created with its parents if missing.
    regressor : lawfinder.SymbolicRegressor
        A fitted estimator.
    parameters : mapping, optional
        The settings to record in ``run.json``; defaults to ``get_params()``.
    extra : mapping, optional
        More top-level entries for ``run.json``.

    Returns
    -------
    dict of str to pathlib.Path
        The paths written, under the keys ``"hall_of_fame"``, ``"run"`` and,
        when the search left a state to continue from, ``"state"``.

    Examples
    --------
    >>> from lawfinder import SymbolicRegressor
    >>> import numpy as np
    >>> X = np.linspace(1, 5, 20).reshape(-1, 1)
    >>> model = SymbolicRegressor(niterations=3).fit(X, X[:, 0] ** 2)  # doctest: +SKIP
    >>> paths = write_run("my_run", model)  # doctest: +SKIP
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    table = hall_of_fame_table(regressor)
    record = run_record(regressor, parameters, extra)

    paths = {}
    state = regressor.search_result_.state
    if state is not None:
        paths["state"] = write_state(folder, state)
    # repr-exact floats, so a loss read back equals the loss written; the
    # equations print their constants exactly already.
    paths["hall_of_fame"] = atomic_write_text(
        folder / HALL_OF_FAME_FILE, table.to_csv(index=False, float_format="%.17g")
    )
    paths["run"] = _write_record(folder, record)
    return paths


def write_state(folder, snapshot: SearchSnapshot) -> Path:
    """Write ``search_state.npz``: a search state as plain arrays.

    Parameters
    ----------
    folder : str or os.PathLike
        An existing run folder.
    snapshot : lawfinder.search.checkpoint.SearchSnapshot

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return atomic_write_npz(Path(folder) / STATE_FILE, snapshot_arrays(snapshot))


def read_state(folder) -> SearchSnapshot:
    """Read ``search_state.npz`` of a run folder, without pickles.

    Parameters
    ----------
    folder : str or os.PathLike
        The run folder.

    Returns
    -------
    lawfinder.search.checkpoint.SearchSnapshot

    Raises
    ------
    FileNotFoundError
        If the folder holds no state.
    RunFileError
        If the file is not a state this version of lawfinder can read.
    """
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no {STATE_FILE} in {folder}: the run stopped before its first "
            "checkpoint, or was written by a version without checkpoints"
        )
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return snapshot_from_arrays({name: arrays[name] for name in arrays.files})
    except RunFileError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        raise RunFileError(
            f"{path} is not a search state lawfinder can read: {error}"
        ) from None


def read_run_record(folder) -> dict:
    """Read and check ``run.json`` of a run folder.

    Parameters
    ----------
    folder : str or os.PathLike
        The run folder.

    Returns
    -------
    dict
        The record, with every key of `REQUIRED_RUN_KEYS`.

    Raises
    ------
    FileNotFoundError
        If the folder holds no ``run.json``.
    RunFileError
        If the file is not JSON, lacks a required key, or has a
        ``format_version`` other than an integer from 1 to `FORMAT_VERSION`.
    """
    path = Path(folder) / RUN_FILE
    expected = f"expected the {RUN_FILE} of a lawfinder run folder"
    if not path.is_file():
        raise FileNotFoundError(
            f"no {RUN_FILE} in {folder}: not a lawfinder run folder, or the run "
            "stopped before its first checkpoint"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunFileError(f"{path} is not valid JSON ({error}); {expected}") from None
    if not isinstance(record, dict):
        raise RunFileError(
            f"{path} holds a JSON {type(record).__name__}, not an object; {expected}"
        )

    version = record.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise RunFileError(
            f"{path} has format_version {version!r}; {expected}, whose "
            f"format_version is an integer from 1 to {FORMAT_VERSION}"
        )
    if version > FORMAT_VERSION:
        raise RunFileError(
            f"{path} has format_version {version}, newer than {FORMAT_VERSION}, "
            "the newest this version of lawfinder reads; upgrade lawfinder to "
            "load it"
        )
    if version < 1:
        raise RunFileError(
            f"{path} has format_version {version}; expected an integer from 1 "
            f"to {FORMAT_VERSION}"
        )

    missing = [key for key in REQUIRED_RUN_KEYS if key not in record]
    if missing:
        raise RunFileError(
            f"{path} lacks {', '.join(missing)}; a {RUN_FILE} of format_version "
            f"{version} has {', '.join(REQUIRED_RUN_KEYS)}"
        )
    if not isinstance(record["parameters"], dict):
        raise RunFileError(f"{path}: 'parameters' must be a JSON object")
    if record["status"] not in ("running", "finished"):
        raise RunFileError(
            f"{path} has status {record['status']!r}; expected 'running' or 'finished'"
        )
    return record


def read_hall_of_fame(folder) -> pd.DataFrame:
    """Read and check ``hall_of_fame.csv`` of a run folder.

    Parameters
    ----------
    folder : str or os.PathLike
        The run folder.

    Returns
    -------
    pandas.DataFrame
        The columns of `HALL_OF_FAME_COLUMNS`, one row per equation; the
        equations as text.

    Raises
    ------
    FileNotFoundError
        If the folder holds no ``hall_of_fame.csv``.
    RunFileError
        If a column is missing or not exactly one row is chosen.
    """
    path = Path(folder) / HALL_OF_FAME_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {HALL_OF_FAME_FILE} in {folder}")
    try:
        # Equations stay text even where one reads like a number or "nan".
        table = pd.read_csv(
            path,
            dtype={"equation": str, "constant_errors": str},
            keep_default_na=False,
            na_values={"loss": [""], "score": [""]},
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        raise RunFileError(f"{path} is not a readable CSV file: {error}") from None
    missing = [
        name
        for name in HALL_OF_FAME_COLUMNS
        if name not in table.columns and name not in _OPTIONAL_COLUMNS
    ]
    if missing:
        raise RunFileError(
            f"{path} lacks the column(s) {', '.join(missing)}; expected "
            f"{', '.join(HALL_OF_FAME_COLUMNS)}"
        )
    chosen = table["chosen"].astype(str).str.lower() == "true"
    if chosen.sum() != 1:
        raise RunFileError(
            f"{path} marks {int(chosen.sum())} rows as chosen; expected exactly one"
        )
    table["chosen"] = chosen
    return table


class CheckpointWriter:
    """Save a running search to a run folder, at most once per interval.

    Hand it to the search as its checkpoint hook: after every iteration it
    receives the search state and, when at least ``seconds`` have passed
    since its last write (or since it was made), writes
    ``search_state.npz`` and then ``run.json``, each atomically. A failed
    write is logged and the search goes on.

    Parameters
    ----------
    folder : str or os.PathLike
        The run folder; created if missing.
    seconds : float
        Least time between two writes; 0 writes after every iteration.
    record : mapping
        The entries of ``run.json`` known at the start (see
        `running_record`); the counters of each checkpoint are added.

    Examples
    --------
    >>> writer = CheckpointWriter("my_run", seconds=60.0, record={})  # doctest: +SKIP
    >>> run_search(X, y, None, options, checkpoint=writer)  # doctest: +SKIP
    """

    def __init__(self, folder, seconds: float, record: Mapping) -> None:
        if not seconds >= 0:
            raise ValueError(f"seconds must be a number >= 0, got {seconds!r}")
        self.folder = Path(folder)
        self.seconds = float(seconds)
        self.record = dict(record)
        self.n_written = 0
        self._last = time.monotonic()

    def __call__(self, snapshot: SearchSnapshot) -> None:
        if time.monotonic() - self._last < self.seconds:
            return
        self.write(snapshot)
        self._last = time.monotonic()

    def write(self, snapshot: SearchSnapshot) -> None:
        """Write the state and ``run.json`` now."""
        record = {
            **self.record,
            "status": "running",
            "checkpointed": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seed": snapshot.seed,
            "n_iterations": snapshot.iteration,
            "n_evals": snapshot.n_evals,
            "elapsed_seconds": snapshot.elapsed,
            "stopped_by": None,
            "timings": dict(snapshot.timings),
            "state_file": STATE_FILE,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_state(self.folder, snapshot)
            _write_record(self.folder, _jsonable(record))
        except OSError as error:
            logger.warning(
                "could not write a checkpoint to %s (%s); the search goes on",
                self.folder,
                error,
            )
            return
        self.n_written += 1


def _write_record(folder: Path, record: dict) -> Path:
    return atomic_write_text(
        folder / RUN_FILE, json.dumps(record, indent=2, allow_nan=False) + "\n"
    )


def _variable_names(regressor) -> list[str] | None:
    """Feature names the regressor was fitted with, if it recorded them."""
    for attribute in ("variable_names_", "feature_names_in_"):
        names = getattr(regressor, attribute, None)
        if names is not None:
            return [str(name) for name in names]
    return None


def _versions() -> dict[str, str]:
    """Versions of the software that shaped the result."""
    import numba

    try:
        lawfinder_version = metadata.version("lawfinder")
    except metadata.PackageNotFoundError:
        lawfinder_version = "unknown"
    return {
        "lawfinder": lawfinder_version,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _jsonable(value):
    """``value`` with numpy types, tuples and paths turned into JSON types.

    Non-finite floats become ``None``: standard JSON has no NaN or infinity.
    """
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return repr(value)
