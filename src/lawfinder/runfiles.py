"""The run folder: the files a finished or interrupted search leaves on disk.

A run folder holds ``hall_of_fame.csv`` (one row per complexity, readable in any
spreadsheet) and ``run.json`` (parameters, versions, seed, timings). Every file
is written atomically: to a temporary file in the same folder, flushed to disk,
then renamed over the target, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import math
import os
import platform
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

HALL_OF_FAME_FILE = "hall_of_fame.csv"
RUN_FILE = "run.json"
HALL_OF_FAME_COLUMNS = ("complexity", "dof", "loss", "score", "equation", "chosen")

# Objects, not settings: they would only appear in run.json as memory addresses.
_UNRECORDED_PARAMETERS = ("callbacks",)


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
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")

    # 0o666 lets the umask decide the permissions, as for any ordinary new file.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "w", encoding=encoding, newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
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
        Columns complexity, dof, loss, score, equation and chosen (True on the
        row of the equation the estimator selected), one row per complexity.
    """
    equations = regressor.equations_
    table = equations.loc[:, list(HALL_OF_FAME_COLUMNS[:-1])].copy()
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
        A JSON-ready dictionary.
    """
    if parameters is None:
        parameters = regressor.get_params(deep=False)
    parameters = {
        name: value
        for name, value in parameters.items()
        if name not in _UNRECORDED_PARAMETERS
    }
    result = regressor.search_result_

    record = {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": parameters,
        "random_state": getattr(regressor, "random_state", None),
        "variable_names": _variable_names(regressor),
        "versions": _versions(),
        "n_evals": result.n_evals,
        "n_iterations": result.n_iterations,
        "elapsed_seconds": result.elapsed,
        "stopped_by": result.stopped_by,
        "timings": dict(result.timings),
        "chosen": {
            "index": regressor.best_index_,
            "equation": str(regressor.best_),
            "complexity": regressor.equations_.loc[regressor.best_index_, "complexity"],
        },
    }
    record.update(extra or {})
    return _jsonable(record)


def write_run(folder, regressor, parameters=None, extra=None) -> dict[str, Path]:
    """Write ``hall_of_fame.csv`` and ``run.json`` of a fitted regressor.

    Each file is replaced atomically, so an interrupted write leaves either the
    previous file or the new one, never a partial file.

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
        The paths written, under the keys ``"hall_of_fame"`` and ``"run"``.

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

    # Full float precision, so a loss read back equals the loss written.
    hall_of_fame = atomic_write_text(
        folder / HALL_OF_FAME_FILE, table.to_csv(index=False, float_format="%.17g")
    )
    run = atomic_write_text(
        folder / RUN_FILE, json.dumps(record, indent=2, allow_nan=False) + "\n"
    )
    return {"hall_of_fame": hall_of_fame, "run": run}


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
