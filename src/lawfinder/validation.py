"""Checks on user data: turn X, y, weights and variable names into clean arrays.

Every check raises an error that names the problem, where it is (column, row)
and what is allowed, so a user can fix the input without reading this code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse
from sklearn.utils.validation import column_or_1d

from .operators import ALIASES, OPERATORS

MIN_ROWS = 2

# Names the expression printers and parser read as operators, not variables.
RESERVED_NAMES = frozenset(OPERATORS) | frozenset(
    alias for alias in ALIASES if alias.isidentifier()
)

# Operator symbols and brackets of the text form: a name holding one would print
# as a formula that reads differently from what it means.
_FORBIDDEN_CHARACTERS = ("+", "-", "*", "/", "^", "(", ")", ",")

# Long lists of bad rows or columns are cut to this many in messages.
_SHOWN = 5


class FitData(NamedTuple):
    """Validated training data.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features), float64
    y : ndarray of shape (n_rows,), float64
    weights : ndarray of shape (n_rows,), float64, or None
    variable_names : tuple of str, one per feature
    """

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray | None
    variable_names: tuple[str, ...]


def check_fit_data(X, y, weights=None, variable_names=None) -> FitData:
    """Validate everything ``fit`` receives and return it as clean arrays.

    Parameters
    ----------
    X : array-like or pandas.DataFrame of shape (n_rows, n_features)
        Numeric features. The column names of a DataFrame become the variable
        names unless ``variable_names`` is given.
    y : array-like of shape (n_rows,)
        Numeric target. A single-column 2-D array is accepted with a
        ``DataConversionWarning``; several columns are refused.
    weights : array-like of shape (n_rows,), optional
        Finite, non-negative weight of each row; not all zero.
    variable_names : sequence of str, optional
        One name per feature (see `check_variable_names`). Defaults to the
        DataFrame column names, or ``x0, x1, ...``.

    Returns
    -------
    FitData
        ``X``, ``y`` and ``weights`` as contiguous float64 arrays, and the
        variable names as a tuple.

    Raises
    ------
    ValueError
        On missing or non-finite values, mismatched lengths, fewer than two
        rows, wrong shapes or bad names.
    TypeError
        On non-numeric or sparse input, or names that are not strings.

    Examples
    --------
    >>> import numpy as np
    >>> data = check_fit_data(np.ones((3, 2)), [1.0, 2.0, 3.0])
    >>> data.variable_names
    ('x0', 'x1')
    """
    if y is None:
        raise ValueError(
            "fit requires y to be passed, but the target y is None; give the "
            "target values as a 1-D array with one value per row of X"
        )

    X_array = check_features(X, min_rows=MIN_ROWS)
    n_rows, n_features = X_array.shape
    y_array = check_target(y, n_rows)
    weights_array = check_weights(weights, n_rows)

    if variable_names is None:
        names = check_variable_names(
            default_variable_names(X, n_features), n_features, source="column"
        )
    else:
        names = check_variable_names(variable_names, n_features)

    return FitData(X_array, y_array, weights_array, names)


def check_features(X, *, min_rows: int = 1, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape (n_rows, n_features).

    Parameters
    ----------
    X : array-like or pandas.DataFrame of shape (n_rows, n_features)
        Numeric features.
    min_rows : int, default=1
        Fewest rows accepted.
    name : str, default="X"
        What to call the array in error messages.

    Returns
    -------
    ndarray of shape (n_rows, n_features)
        A C-contiguous float64 copy or view of the data.

    Examples
    --------
    >>> check_features([[1, 2], [3, 4]]).dtype
    dtype('float64')
    """
    if scipy.sparse.issparse(X):
        raise TypeError(
            f"{name} is a sparse matrix; lawfinder needs dense data. "
            f"Convert it with {name}.toarray()."
        )

    if isinstance(X, pd.DataFrame):
        columns = [_column_label(label) for label in X.columns]
        array = _dataframe_to_float(X, columns, name)
    else:
        array = _array_to_float(X, name)
        columns = None

    if array.ndim != 2:
        hint = (
            f". Reshape your data with {name}.reshape(-1, 1) if it has a single "
            f"feature, or {name}.reshape(1, -1) if it is a single row"
            if array.ndim == 1
            else ""
        )
        raise ValueError(
            f"{name} must be 2-D with shape (n_rows, n_features), got an array "
            f"with {array.ndim} dimension(s) and shape {array.shape}{hint}"
        )

    n_rows, n_features = array.shape
    if n_features == 0:
        raise ValueError(
            f"{name} has 0 feature(s) (shape={array.shape}) while a minimum of "
            "1 is required; give at least one column"
        )
    if n_rows < min_rows:
        noun = "sample" if n_rows == 1 else "samples"
        raise ValueError(
            f"{name} has {n_rows} {noun} (rows); at least {min_rows} are needed"
        )

    if columns is None:
        columns = [str(index) for index in range(n_features)]
    _check_finite_columns(array, columns, name)
    return np.ascontiguousarray(array)


def check_target(y, n_rows: int) -> np.ndarray:
    """Return ``y`` as a finite float64 vector of length ``n_rows``.

    Parameters
    ----------
    y : array-like of shape (n_rows,) or (n_rows, 1)
        Numeric target values.
    n_rows : int
        Number of rows of ``X``.

    Returns
    -------
    ndarray of shape (n_rows,)

    Examples
    --------
    >>> check_target([1, 2, 3], 3)
    array([1., 2., 3.])
    """
    if scipy.sparse.issparse(y):
        raise TypeError("y is a sparse matrix; give a dense 1-D array instead")
    array = _array_to_float(y, "y")
    if array.ndim == 2 and array.shape[1] > 1:
        raise ValueError(
            f"y has {array.shape[1]} columns (shape {array.shape}); multi-output "
            "regression is not supported. Fit one SymbolicRegressor per column."
        )
    if array.ndim == 0 or array.ndim > 2:
        raise ValueError(
            f"y must be 1-D with one value per row of X, got shape {array.shape}"
        )
    # A column vector is accepted, as in scikit-learn, with its usual warning.
    array = column_or_1d(array, warn=True)

    if array.shape[0] != n_rows:
        raise ValueError(
            f"X has {n_rows} rows but y has {array.shape[0]}; they must have "
            "the same number of rows"
        )
    _check_finite_vector(array, "y")
    return np.ascontiguousarray(array, dtype=np.float64)


def check_weights(weights, n_rows: int) -> np.ndarray | None:
    """Return the row weights as a float64 vector, or None when not given.

    Parameters
    ----------
    weights : array-like of shape (n_rows,) or None
        Finite, non-negative weights, not all zero.
    n_rows : int
        Number of rows of ``X``.

    Returns
    -------
    ndarray of shape (n_rows,) or None

    Examples
    --------
    >>> check_weights([1, 2], 2)
    array([1., 2.])
    """
    if weights is None:
        return None
    array = _array_to_float(weights, "weights")
    if array.ndim != 1:
        raise ValueError(
            f"weights must be 1-D with one weight per row of X, got shape {array.shape}"
        )
    if array.shape[0] != n_rows:
        raise ValueError(
            f"X has {n_rows} rows but weights has {array.shape[0]}; give one "
            "weight per row"
        )
    _check_finite_vector(array, "weights")

    negative = np.flatnonzero(array < 0)
    if negative.size:
        first = negative[0]
        raise ValueError(
            f"weights must be >= 0, got {negative.size} negative weight(s) "
            f"(first at row {first}: {float(array[first]):g})"
        )
    if not np.any(array > 0):
        raise ValueError("all weights are zero; at least one must be positive")
    return np.ascontiguousarray(array)


def check_variable_names(
    variable_names, n_features: int, *, source: str = "variable name"
) -> tuple[str, ...]:
    """Check one usable, distinct name per feature and return them as a tuple.

    Parameters
    ----------
    variable_names : sequence of str
        Candidate names. Each must be non-empty, without spaces at either end,
        not a number, free of the characters ``+ - * / ^ ( ) ,`` and not an
        operator name such as ``exp``. Names such as ``"E kin"`` or
        ``"mass [kg]"`` are fine.
    n_features : int
        Number of columns of ``X``.
    source : str, default="variable name"
        What the names are, for messages (``"column"`` for DataFrame columns).

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> check_variable_names(["mass", "velocity"], 2)
    ('mass', 'velocity')
    """
    if isinstance(variable_names, str) or not isinstance(
        variable_names, Sequence | np.ndarray | pd.Index
    ):
        raise TypeError(
            "variable_names must be a list of strings, one per feature, got "
            f"{type(variable_names).__name__} {variable_names!r}"
        )
    names = list(variable_names)
    if len(names) != n_features:
        raise ValueError(
            f"got {len(names)} variable names for {n_features} features: "
            f"{names!r}; give exactly one name per column of X"
        )

    for name in names:
        _check_one_name(name, source)

    seen: set[str] = set()
    duplicates = sorted({name for name in names if name in seen or seen.add(name)})
    if duplicates:
        raise ValueError(
            f"variable names must be distinct; repeated: {', '.join(duplicates)}"
        )
    return tuple(names)


def default_variable_names(X, n_features: int) -> list[str]:
    """String column names of a DataFrame, else ``x0, x1, ...``."""
    if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
        return list(X.columns)
    return [f"x{index}" for index in range(n_features)]


def _check_one_name(name, source: str) -> None:
    """Raise if ``name`` would print ambiguously or fail to parse back."""
    if not isinstance(name, str):
        raise TypeError(
            f"variable names must be strings, got {type(name).__name__} {name!r}"
        )
    rule = (
        "names must be non-empty without spaces at either end, must not look "
        "like a number, must not contain any of "
        f"{' '.join(_FORBIDDEN_CHARACTERS)} and must not be operator names"
    )
    fix = "; rename the column or pass variable_names=" if source == "column" else ""
    if name.lower() in RESERVED_NAMES:
        raise ValueError(
            f"{source} {name!r} is the name of an operator and cannot name a "
            f"variable: {rule}{fix}"
        )
    if (
        not name.strip()
        or name != name.strip()
        or _looks_like_a_number(name)
        or any(character in name for character in _FORBIDDEN_CHARACTERS)
    ):
        raise ValueError(f"{source} {name!r} is not a valid variable name: {rule}{fix}")


def _looks_like_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _column_label(label) -> str:
    return repr(label) if isinstance(label, str) else str(label)


def _dataframe_to_float(frame: pd.DataFrame, columns: list[str], name: str):
    """Convert a DataFrame column by column, naming any column that is not numeric."""
    converted = np.empty(frame.shape, dtype=np.float64)
    for index, label in enumerate(columns):
        series = frame.iloc[:, index]
        dtype = series.dtype
        if pd.api.types.is_complex_dtype(dtype) or not (
            pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
        ):
            raise TypeError(
                f"column {label} of {name} has non-numeric dtype {dtype}; "
                "lawfinder needs numbers (int, float or bool) in every column"
            )
        try:
            converted[:, index] = series.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"column {label} of {name} is not numeric ({error}); lawfinder "
                "needs numbers in every column"
            ) from error
    return converted


def _array_to_float(values, name: str) -> np.ndarray:
    """Convert array-like input to float64, naming the first non-numeric column."""
    if isinstance(values, pd.DataFrame | pd.Series):
        return _pandas_to_float(values, name)
    try:
        array = np.asarray(values)
    except ValueError as error:
        raise ValueError(
            f"{name} could not be read as a rectangular table of numbers: {error}"
        ) from error

    if array.dtype.kind == "c":
        # scikit-learn's checks look for this phrase; the type is ValueError there.
        raise ValueError(
            f"Complex data not supported: {name} holds complex numbers; give the "
            "real and imaginary parts as separate real columns"
        )
    if array.dtype.kind in "mM":
        raise TypeError(
            f"{name} holds dates or times (dtype {array.dtype}); give numbers"
        )
    if array.dtype.kind in "biuf":
        return array.astype(np.float64, copy=False)

    # Text or objects: convert column by column so the message can name the column.
    if array.ndim == 2:
        for index in range(array.shape[1]):
            _to_float(array[:, index], f"column {index} of {name}")
    return _to_float(array, name)


def _pandas_to_float(values, name: str) -> np.ndarray:
    """Convert a Series or DataFrame, with missing values (``pd.NA``) as NaN."""
    try:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"{name} is not numeric ({error}); lawfinder needs numbers"
        ) from error


def _to_float(array: np.ndarray, where: str) -> np.ndarray:
    try:
        return array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise type(error)(
            f"{where} is not numeric ({error}); lawfinder needs numbers"
        ) from error


def _check_finite_columns(array: np.ndarray, columns: list[str], name: str) -> None:
    """Raise, counting the NaN and infinite values of each column, if any."""
    nan_counts = np.isnan(array).sum(axis=0)
    inf_counts = np.isinf(array).sum(axis=0)
    bad = np.flatnonzero(nan_counts + inf_counts)
    if bad.size == 0:
        return

    parts = [
        f"column {columns[index]}: "
        + _count_text(int(nan_counts[index]), int(inf_counts[index]))
        for index in bad[:_SHOWN]
    ]
    if bad.size > _SHOWN:
        parts.append(f"and {bad.size - _SHOWN} more columns")
    raise ValueError(
        f"{name} contains NaN or infinite values ({'; '.join(parts)}); remove or "
        "fill these rows before fitting"
    )


def _check_finite_vector(array: np.ndarray, name: str) -> None:
    """Raise, counting the NaN and infinite entries and naming some rows, if any."""
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size == 0:
        return
    counts = _count_text(int(np.isnan(array).sum()), int(np.isinf(array).sum()))
    rows = ", ".join(str(row) for row in bad[:_SHOWN])
    more = ", ..." if bad.size > _SHOWN else ""
    raise ValueError(
        f"{name} contains NaN or infinite values ({counts}; at rows {rows}{more}); "
        "remove or fill these rows before fitting"
    )


def _count_text(n_nan: int, n_inf: int) -> str:
    parts = []
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} infinite")
    return " and ".join(parts)
