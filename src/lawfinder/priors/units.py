"""Units of the features and the target: parsing, Buckingham pi, consistency.

A law relates quantities with units, so ``y`` must be a product of powers of
the features (the *prefactor*) times a function of dimensionless products of
them (the *groups*). Dimensional analysis finds both from the units alone, and
the search then looks for a function of fewer variables.

Units are exponent vectors over base dimensions. Unit names are read with
pint and give exponents of pint's seven base dimensions, in the order of
:data:`BASE_DIMENSIONS`; a vector of numbers is taken as it is, in whatever
basis the user chose (all vectors of one problem must share it).

The linear algebra is exact (sympy rationals), so a group is dimensionless
exactly, not up to rounding.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from tokenize import TokenError

import numpy as np
import pint
import sympy
from sympy.polys.matrices import DomainMatrix

from ..kernels.units import unit_stack, unit_violations
from ..operators import VARIABLE
from ..printing import default_variable_names, make_symbol

BASE_DIMENSIONS = (
    "[length]",
    "[time]",
    "[mass]",
    "[temperature]",
    "[current]",
    "[substance]",
    "[luminosity]",
)

# Group symbols are named pi0, pi1, ...; underscores are added to the prefix
# ("pi_0", "pi__0", ...) while a variable already uses one of the names.
GROUP_PREFIX = "pi"

# Exponents given as floats are read as the nearest fraction with at most this
# denominator; physical exponents are halves, thirds, at most a few tenths.
MAX_DENOMINATOR = 1000

# Sparse groups are found by trying subsets of columns, smallest first; past
# this many subsets, the rest of the basis comes from the row echelon form,
# which is just as valid but may mix more variables.
SEARCH_LIMIT = 5000

_UNIT_HELP = (
    "units are pint unit names such as m, s, kg, J, V, combined with *, / and ^ "
    "(for example 'kg*m/s^2'), '1' for no units, or a sequence of exponents"
)
_PARSE_ERRORS = (
    pint.PintError,
    AssertionError,
    SyntaxError,
    TokenError,
    TypeError,
    ValueError,
    ZeroDivisionError,
)


def _parse_unit_name(spec) -> np.ndarray:
    """Exponents of pint's base dimensions for a unit string or pint object."""
    if isinstance(spec, str):
        registry = pint.get_application_registry()
        try:
            quantity = registry.parse_expression(spec)
        except pint.UndefinedUnitError as error:
            names = ", ".join(repr(name) for name in error.unit_names)
            raise ValueError(
                f"unknown unit {names} in {spec!r}; {_UNIT_HELP}"
            ) from None
        except _PARSE_ERRORS as error:
            raise ValueError(
                f"cannot read the units {spec!r} ({type(error).__name__}); {_UNIT_HELP}"
            ) from None
    else:
        quantity = spec

    # A plain number such as "3" parses to an int on some pint versions.
    dimensionality = getattr(quantity, "dimensionality", {})
    exponents = np.zeros(len(BASE_DIMENSIONS))
    for dimension, exponent in dict(dimensionality).items():
        if dimension not in BASE_DIMENSIONS:
            raise ValueError(
                f"the units {spec!r} have the dimension {dimension}, which is not "
                f"one of pint's base dimensions {', '.join(BASE_DIMENSIONS)}; give "
                f"these units as exponent vectors in a basis of your own instead"
            )
        exponents[BASE_DIMENSIONS.index(dimension)] = float(exponent)
    return exponents


def _parse_exponents(spec, dimensions: int | None) -> np.ndarray:
    """An exponent vector given as numbers, checked."""
    if spec is None:
        raise ValueError(f"no units given (None); {_UNIT_HELP}")
    if isinstance(spec, numbers.Number) or (
        isinstance(spec, np.ndarray) and spec.ndim == 0
    ):
        raise ValueError(
            f"a single number ({spec!r}) is not units; give '1' for no units, or "
            f"a sequence of exponents; {_UNIT_HELP}"
        )
    try:
        exponents = np.array(spec, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"cannot read units from {spec!r}; {_UNIT_HELP}") from None
    if exponents.ndim != 1 or exponents.size == 0:
        raise ValueError(
            f"an exponent vector must be a flat, non-empty sequence of numbers, "
            f"got {spec!r}"
        )
    if dimensions is not None and exponents.size != dimensions:
        raise ValueError(
            f"the exponent vector {exponents.tolist()} has {exponents.size} "
            f"entries; expected {dimensions}, one per base dimension"
        )
    if not np.all(np.isfinite(exponents)):
        raise ValueError(
            f"the exponent vector {exponents.tolist()} holds non-finite values; "
            f"exponents must be finite numbers"
        )
    return exponents


def _is_unit_name(spec) -> bool:
    return isinstance(spec, str) or hasattr(spec, "dimensionality")


def parse_units(spec, dimensions: int | None = None) -> np.ndarray:
    """Exponent vector of the units ``spec``.

    Parameters
    ----------
    spec : str, pint unit or quantity, or sequence of float
        A unit expression read by pint (``"kg*m/s^2"``, ``"J"``, ``"eV"``,
        ``"1"`` or ``"dimensionless"``), or the exponents themselves.
    dimensions : int, optional
        The number of entries an exponent vector must have. Unit names always
        give the 7 exponents of :data:`BASE_DIMENSIONS`, so with any other
        value only exponent vectors are accepted.

    Returns
    -------
    numpy.ndarray
        Float exponents, possibly fractional: for unit names, of
        ``[length], [time], [mass], [temperature], [current], [substance],
        [luminosity]`` in that order; for a vector, a copy of it.

    Raises
    ------
    ValueError
        For an unknown unit name or unreadable text, a single number, a
        vector with the wrong number of entries, or non-finite exponents.

    Examples
    --------
    >>> parse_units("kg*m/s^2")
    array([ 1., -2.,  1.,  0.,  0.,  0.,  0.])
    >>> parse_units([1, -1, 0])
    array([ 1., -1.,  0.])
    """
    if _is_unit_name(spec):
        if dimensions is not None and dimensions != len(BASE_DIMENSIONS):
            raise ValueError(
                f"the unit name {spec!r} gives exponents of pint's "
                f"{len(BASE_DIMENSIONS)} base dimensions, but {dimensions} "
                f"exponents are expected; give an exponent vector instead"
            )
        return _parse_unit_name(spec)
    return _parse_exponents(spec, dimensions)


def units_matrix(X_units, y_units, n_features: int | None = None):
    """Units of every feature as the columns of a matrix, and the target's units.

    Parameters
    ----------
    X_units : sequence
        One units spec per feature (see :func:`parse_units`). Exponent
        vectors must all have the same length; they can be mixed with unit
        names only if they have 7 entries, in the order of
        :data:`BASE_DIMENSIONS`.
    y_units : str, pint unit or sequence of float
        Units of the target.
    n_features : int, optional
        The number of features, to check that ``X_units`` has one entry each.

    Returns
    -------
    D : numpy.ndarray of shape (n_dimensions, n_features)
        Exponent of each base dimension (row) in each feature's units.
    d_y : numpy.ndarray of shape (n_dimensions,)
        Exponents of the target's units.
        Dimensions that are zero in every feature and the target are dropped.

    Raises
    ------
    ValueError
        If an entry cannot be read (the message names it), the number of
        entries is not ``n_features``, or vectors have different lengths.

    Examples
    --------
    Mass, acceleration and force:

    >>> D, d_y = units_matrix(["kg", "m/s^2"], "N")
    >>> D
    array([[ 0.,  1.],
           [ 0., -2.],
           [ 1.,  0.]])
    >>> d_y
    array([ 1., -2.,  1.])
    """
    if (
        _is_unit_name(X_units)
        or isinstance(X_units, Mapping)
        or not isinstance(X_units, Iterable)
    ):
        raise ValueError(
            f"X_units must be a sequence with the units of each feature, such as "
            f"['kg', 'm/s^2'], got {X_units!r}"
        )
    specs = list(X_units)
    if n_features is not None and len(specs) != n_features:
        raise ValueError(
            f"got {len(specs)} entries in X_units for {n_features} features; give "
            f"the units of every column of X, in order"
        )
    if not specs:
        raise ValueError("X_units is empty; give the units of every feature")

    labels = [f"X_units[{index}]" for index in range(len(specs))] + ["y_units"]
    specs.append(y_units)
    columns = []
    for label, spec in zip(labels, specs, strict=True):
        try:
            columns.append(parse_units(spec))
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from None
    _check_lengths(labels, specs, columns)

    matrix = np.column_stack(columns)
    used = np.any(matrix != 0.0, axis=1)
    return matrix[used, :-1], matrix[used, -1]


def _check_lengths(labels, specs, columns) -> None:
    """All exponent vectors of one problem must use the same basis."""
    named = [
        label for label, spec in zip(labels, specs, strict=True) if _is_unit_name(spec)
    ]
    for label, column in zip(labels, columns, strict=True):
        if named and column.size != len(BASE_DIMENSIONS):
            raise ValueError(
                f"{label} is an exponent vector with {column.size} entries, but "
                f"{named[0]} is a unit name; mix unit names only with vectors of "
                f"{len(BASE_DIMENSIONS)} exponents in pint's base order "
                f"({', '.join(BASE_DIMENSIONS)})"
            )
        if column.size != columns[0].size:
            raise ValueError(
                f"{label} has {column.size} exponents but {labels[0]} has "
                f"{columns[0].size}; all exponent vectors must have one entry "
                f"per base dimension, in the same order"
            )


def _rational(value) -> sympy.Rational:
    """An exponent as an exact fraction; a float becomes the nearest simple one."""
    if isinstance(value, int | np.integer):
        return sympy.Integer(int(value))
    if isinstance(value, Fraction | sympy.Rational):
        return sympy.Rational(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"exponents must be finite numbers, got {value!r}")
    fraction = Fraction(number).limit_denominator(MAX_DENOMINATOR)
    if abs(float(fraction) - number) > 1e-9 * max(1.0, abs(number)):
        raise ValueError(
            f"the exponent {number!r} is not a fraction with a denominator up to "
            f"{MAX_DENOMINATOR}; units need exponents such as 2, -1 or 1/2"
        )
    return sympy.Rational(fraction.numerator, fraction.denominator)


def _integer_vector(vector) -> tuple[sympy.Integer, ...]:
    """The smallest integer multiple of a rational vector, same direction."""
    scale = reduce(sympy.ilcm, [sympy.Rational(entry).q for entry in vector], 1)
    integers = [int(entry * scale) for entry in vector]
    divisor = reduce(math.gcd, integers, 0) or 1
    return tuple(sympy.Integer(entry // divisor) for entry in integers)


def _rank(matrix: sympy.Matrix) -> int:
    """Exact rank over the rationals; ``Matrix.rank`` is fraction-free and its
    integers grow large on wide matrices."""
    if 0 in matrix.shape:
        return 0
    return DomainMatrix.from_Matrix(matrix).convert_to(sympy.QQ).rank()


def _support(vector) -> tuple[int, ...]:
    return tuple(index for index, entry in enumerate(vector) if entry != 0)


def _circuits(augmented: sympy.Matrix, max_size: int) -> tuple[list, bool]:
    """Null vectors of minimal support: from subsets of columns, smallest first.

    A subset is a circuit when its columns have a one-dimensional null space
    whose vector uses all of them. Returns the vectors and whether every
    subset up to ``max_size`` was tried within :data:`SEARCH_LIMIT`.
    """
    n_columns = augmented.cols
    found = []
    tried = 0
    for size in range(1, max_size + 1):
        for subset in itertools.combinations(range(n_columns), size):
            tried += 1
            if tried > SEARCH_LIMIT:
                return found, False
            null = augmented[:, list(subset)].nullspace()
            if len(null) != 1 or any(entry == 0 for entry in null[0]):
                continue
            vector = [sympy.Integer(0)] * n_columns
            for index, entry in zip(subset, null[0], strict=True):
                vector[index] = entry
            found.append(vector)
    return found, True


def _prefactor_key(exponents):
    """Integer exponents first, then fewest variables, then smallest powers."""
    support = _support(exponents)
    return (
        any(not entry.is_integer for entry in exponents),
        len(support),
        sum(abs(entry) for entry in exponents),
        max((entry.q for entry in exponents), default=1),
        support,
    )


def _group_key(exponents):
    """Fewest variables first, then smallest powers, then earliest features."""
    support = _support(exponents)
    return (
        len(support),
        sum(abs(entry) for entry in exponents),
        max(abs(entry) for entry in exponents),
        support,
    )


def _choose_prefactor(D, d_y, circuits, complete) -> tuple[sympy.Rational, ...]:
    n_features = D.cols
    candidates = [
        tuple(entry / vector[n_features] for entry in vector[:n_features])
        for vector in circuits
        if vector[n_features] != 0
    ]
    if candidates:
        best = min(candidates, key=_prefactor_key)
        if complete:
            return best
    # The search ran out: the row echelon solution, free exponents set to 0.
    solution, parameters = D.gauss_jordan_solve(d_y)
    fallback = tuple(solution.subs({symbol: 0 for symbol in parameters}))
    return min([*candidates, fallback], key=_prefactor_key)


def _choose_groups(D, circuits, prefactor) -> list[tuple[sympy.Integer, ...]]:
    """A basis of the null space of ``D`` chosen greedily by :func:`_group_key`.

    Greedy choice over the candidate vectors in order of the key gives the
    basis with the best key among those the candidates allow (a matroid).
    """
    n_features = D.cols
    n_groups = n_features - _rank(D)
    candidates = sorted(
        (
            _integer_vector(vector[:n_features])
            for vector in circuits
            if vector[n_features] == 0
        ),
        key=_group_key,
    )
    candidates += [_integer_vector(vector) for vector in D.nullspace()]

    chosen: list[tuple[sympy.Integer, ...]] = []
    for vector in candidates:
        if len(chosen) == n_groups:
            break
        if _rank(sympy.Matrix([*chosen, vector])) > len(chosen):
            chosen.append(_oriented(vector, prefactor))
    return chosen


def _oriented(group, prefactor) -> tuple[sympy.Integer, ...]:
    """Sign a group so that its first variable outside the prefactor is raised
    to a positive power (``theta/sigma`` when ``sigma`` is the scale of ``y``);
    if all its variables are in the prefactor, its first variable."""
    support = _support(group)
    outside = [index for index in support if prefactor[index] == 0]
    leading = outside[0] if outside else support[0]
    sign = 1 if group[leading] > 0 else -1
    return tuple(sign * entry for entry in group)


def _format_vector(vector) -> str:
    return "[" + ", ".join(str(entry) for entry in vector) + "]"


@dataclass(frozen=True)
class DimensionalReduction:
    """``y = prod_i x_i**prefactor[i] * f(pi_0, pi_1, ...)``, with dimensionless
    groups ``pi_j = prod_i x_i**groups[j][i]``.

    Attributes
    ----------
    prefactor : tuple of sympy.Rational
        Exponent of each feature in the prefactor; its units are the target's.
    groups : tuple of tuple of sympy.Integer
        Exponent vectors of the dimensionless groups: a basis of the null
        space of the units matrix, each in smallest integers. Empty when the
        units fix ``y`` up to a constant factor.

    Examples
    --------
    ``y = x0 * f(x1 / x2)``:

    >>> reduction = DimensionalReduction(prefactor=(1, 0, 0), groups=((0, 1, -1),))
    >>> reduction.describe()
    'y = x0 * f(x1/x2)'
    """

    prefactor: tuple[sympy.Rational, ...]
    groups: tuple[tuple[sympy.Integer, ...], ...]

    def __post_init__(self):
        # Exponents given as plain numbers are stored as exact fractions.
        prefactor = tuple(_rational(entry) for entry in self.prefactor)
        groups = tuple(tuple(_rational(e) for e in group) for group in self.groups)
        for j, group in enumerate(groups):
            if len(group) != len(prefactor):
                raise ValueError(
                    f"group {j} has {len(group)} exponents but the prefactor has "
                    f"{len(prefactor)}; give one exponent per feature in each"
                )
        object.__setattr__(self, "prefactor", prefactor)
        object.__setattr__(self, "groups", groups)

    @property
    def n_features(self) -> int:
        return len(self.prefactor)

    @property
    def n_groups(self) -> int:
        return len(self.groups)

    @property
    def prefactor_exponents(self) -> np.ndarray:
        """The prefactor's exponents as floats, shape (n_features,)."""
        return np.array([float(entry) for entry in self.prefactor])

    @property
    def group_exponents(self) -> np.ndarray:
        """The groups' exponents as floats, shape (n_groups, n_features)."""
        return np.array(
            [[float(entry) for entry in group] for group in self.groups],
            dtype=np.float64,
        ).reshape(self.n_groups, self.n_features)

    def _checked_X(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have shape (n_rows, {self.n_features}), got {X.shape}"
            )
        return X

    def _power_product(self, X, exponents, role: str) -> np.ndarray:
        """``prod_i X[:, i] ** exponents[i]``, refusing powers with no real value."""
        result = np.ones(X.shape[0])
        for index, exponent in enumerate(exponents):
            if exponent == 0:
                continue
            column = X[:, index]
            if not exponent.is_integer:
                bad, need = np.flatnonzero(column <= 0.0), "positive values"
            elif exponent < 0:
                bad, need = np.flatnonzero(column == 0.0), "non-zero values"
            else:
                bad, need = (), ""
            if len(bad):
                row = bad[0]
                value = float(column[row])
                raise ValueError(
                    f"{role} raises column {index} of X to the power {exponent}, "
                    f"which needs {need}, but row {row} holds {value!r}; fit "
                    f"without dimensional analysis"
                )
            result *= column ** float(exponent)
        return result

    def evaluate_prefactor(self, X) -> np.ndarray:
        """``prod_i X[:, i] ** prefactor[i]`` on every row of ``X``.

        Examples
        --------
        >>> reduction = DimensionalReduction((1, 1), ())
        >>> reduction.evaluate_prefactor([[2.0, 3.0]])
        array([6.])
        """
        return self._power_product(self._checked_X(X), self.prefactor, "the prefactor")

    def evaluate_groups(self, X) -> np.ndarray:
        """Value of every group on every row, shape (n_rows, n_groups).

        Examples
        --------
        >>> reduction = DimensionalReduction((1, 0), ((0, 1),))
        >>> reduction.evaluate_groups([[2.0, 3.0]])
        array([[3.]])
        """
        X = self._checked_X(X)
        columns = [
            self._power_product(X, group, f"group {j}")
            for j, group in enumerate(self.groups)
        ]
        return np.column_stack(columns) if columns else np.empty((X.shape[0], 0))

    def transform(self, X, y):
        """The data of the reduced problem: the groups and ``y / prefactor``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        y : array-like of shape (n_rows,)

        Returns
        -------
        X_groups : numpy.ndarray of shape (n_rows, n_groups)
            ``X_groups[:, j] = prod_i X[:, i] ** groups[j][i]``.
        y_reduced : numpy.ndarray of shape (n_rows,)
            ``y / prod_i X[:, i] ** prefactor[i]``.

        Raises
        ------
        ValueError
            If a fractional power meets a value <= 0, or a division meets a
            zero; the message names the column and row.

        Examples
        --------
        >>> reduction = DimensionalReduction((1, 0), ((0, 1),))
        >>> reduction.transform([[2.0, 3.0]], [8.0])
        (array([[3.]]), array([4.]))
        """
        X = self._checked_X(X)
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        inverse = tuple(-entry for entry in self.prefactor)
        scale = self._power_product(X, inverse, "dividing by the prefactor")
        return self.evaluate_groups(X), y * scale

    def group_names(self, variable_names: Sequence[str] | None = None) -> list[str]:
        """Names of the group symbols: ``pi0, pi1, ...`` unless a variable has one.

        Examples
        --------
        >>> DimensionalReduction((0, 0), ((1, -1),)).group_names(["pi0", "x"])
        ['pi_0']
        """
        taken = set(self._names(variable_names))
        prefix = GROUP_PREFIX
        while any(f"{prefix}{j}" in taken for j in range(self.n_groups)):
            prefix += "_"
        return [f"{prefix}{j}" for j in range(self.n_groups)]

    def _names(self, variable_names) -> tuple[str, ...]:
        return _checked_names(variable_names, self.n_features)

    def _monomial(self, exponents, variable_names) -> sympy.Expr:
        symbols = [make_symbol(name) for name in self._names(variable_names)]
        factors = [
            symbol**exponent
            for symbol, exponent in zip(symbols, exponents, strict=True)
            if exponent != 0
        ]
        return sympy.Mul(*factors)

    def prefactor_expression(self, variable_names=None) -> sympy.Expr:
        """The prefactor as a sympy expression of the variables.

        Examples
        --------
        >>> DimensionalReduction((1, -2), ()).prefactor_expression(["m", "r"])
        m/r**2
        """
        return self._monomial(self.prefactor, variable_names)

    def group_expressions(self, variable_names=None) -> list[sympy.Expr]:
        """Each group as a sympy expression of the variables.

        Examples
        --------
        >>> DimensionalReduction((0, 0), ((1, -1),)).group_expressions(["v", "c"])
        [v/c]
        """
        return [self._monomial(group, variable_names) for group in self.groups]

    def expand(self, expression, variable_names=None) -> sympy.Expr:
        """``prefactor * f(groups)`` over the original variables.

        Parameters
        ----------
        expression : sympy.Expr or number
            ``f``, over symbols named as :meth:`group_names` gives (matched by
            name); other symbols are left as they are.
        variable_names : sequence of str, optional
            Names of the features; ``x0, x1, ...`` when None.

        Returns
        -------
        sympy.Expr
            The model of ``y``, over real symbols of the variable names.

        Examples
        --------
        >>> import sympy
        >>> reduction = DimensionalReduction((1, 0, 0), ((0, 1, -1),))
        >>> reduction.expand(1 / sympy.sqrt(1 - sympy.Symbol("pi0") ** 2),
        ...                  ["m_0", "v", "c"])
        m_0/sqrt(1 - v**2/c**2)
        """
        if isinstance(expression, numbers.Number):
            expression = sympy.sympify(expression)
        if not isinstance(expression, sympy.Basic):
            raise TypeError(
                f"expression must be a sympy expression or a number, got "
                f"{type(expression).__name__}"
            )
        by_name = dict(
            zip(
                self.group_names(variable_names),
                self.group_expressions(variable_names),
                strict=True,
            )
        )
        replacements = {
            symbol: by_name[symbol.name]
            for symbol in expression.free_symbols
            if getattr(symbol, "name", None) in by_name
        }
        return self.prefactor_expression(variable_names) * expression.xreplace(
            replacements
        )

    def describe(self, variable_names=None, target_name: str = "y") -> str:
        """The reduction in words, such as ``"y = x0*x1**2 * f(x2/x3, x4)"``.

        Examples
        --------
        >>> DimensionalReduction((1, 0, 0), ((0, 1, -1),)).describe(
        ...     ["m_0", "v", "c"], "m")
        'm = m_0 * f(v/c)'
        """
        groups = ", ".join(
            str(group) for group in self.group_expressions(variable_names)
        )
        function = f"f({groups})" if self.groups else "constant"
        prefactor = self.prefactor_expression(variable_names)
        if prefactor == 1:
            return f"{target_name} = {function}"
        return f"{target_name} = {prefactor} * {function}"


def dimensional_analysis(D, d_y, variable_names=None) -> DimensionalReduction:
    """Buckingham pi: split ``y`` into a prefactor and dimensionless groups.

    Among the many valid choices the simplest is kept. The prefactor ``p``
    (with ``D p = d_y``) is, in order of preference, all integer, uses the
    fewest variables, has the smallest sum of absolute exponents, and uses
    the earliest features. The groups are the basis of the null space of
    ``D`` chosen greedily from its sparsest vectors: fewest variables, then
    smallest sum and largest absolute exponent, then earliest features; each
    is scaled to coprime integers and signed so that its first variable not
    in the prefactor has a positive power (so ratios read ``theta/sigma``
    when ``sigma`` sets the scale of ``y``). Candidates come from subsets of
    at most ``rank + 1`` columns; on wide problems, past
    :data:`SEARCH_LIMIT` subsets, the row echelon form completes the choice.

    Parameters
    ----------
    D : array-like of shape (n_dimensions, n_features)
        Units of the features as columns (see :func:`units_matrix`). Float
        entries are read as the nearest simple fractions.
    d_y : array-like of shape (n_dimensions,)
        Units of the target.
    variable_names : sequence of str, optional
        Names of the features, for the error message.

    Returns
    -------
    DimensionalReduction

    Raises
    ------
    ValueError
        If the units of ``y`` are no product of powers of the units of ``X``.

    Examples
    --------
    Relativistic mass from the rest mass ``m_0`` (kg) and the speeds ``v``
    and ``c`` (m/s):

    >>> D, d_y = units_matrix(["kg", "m/s", "m/s"], "kg")
    >>> reduction = dimensional_analysis(D, d_y)
    >>> reduction.describe(["m_0", "v", "c"], "m")
    'm = m_0 * f(v/c)'
    """
    D, d_y = _exact_units(D, d_y)
    # A null vector of [D | -d_y] whose last entry is 1 holds a prefactor
    # (D p = d_y); one whose last entry is 0 is a group (D g = 0).
    augmented = D.row_join(-d_y)
    rank = _rank(D)
    if _rank(augmented) != rank:
        names = _checked_names(variable_names, D.cols)
        columns = ", ".join(
            f"{name} {_format_vector(D[:, j])}" for j, name in enumerate(names)
        )
        raise ValueError(
            f"the units of y, {_format_vector(d_y)}, cannot be made from the units "
            f"of X ({columns}) as a product of powers; check the units, or fit "
            f"without dimensional analysis"
        )

    circuits, complete = _circuits(augmented, rank + 1)
    prefactor = _choose_prefactor(D, d_y, circuits, complete)
    groups = _choose_groups(D, circuits, prefactor)
    return DimensionalReduction(tuple(prefactor), tuple(groups))


def _checked_names(variable_names, n_features) -> tuple[str, ...]:
    if variable_names is None:
        return default_variable_names(n_features)
    names = tuple(variable_names)
    if len(names) != n_features:
        raise ValueError(f"got {len(names)} variable names for {n_features} features")
    return names


def _exact_units(D, d_y) -> tuple[sympy.Matrix, sympy.Matrix]:
    """``D`` and ``d_y`` as exact rational sympy matrices, shapes checked."""
    D = np.asarray(D, dtype=object)
    d_y = np.asarray(d_y, dtype=object)
    if D.ndim != 2:
        raise ValueError(
            f"D must have shape (n_dimensions, n_features), got shape {D.shape}"
        )
    if d_y.shape != (D.shape[0],):
        raise ValueError(
            f"d_y must have one exponent per row of D, shape ({D.shape[0]},), got "
            f"shape {d_y.shape}"
        )
    if D.shape[1] == 0:
        raise ValueError("D has no columns; dimensional analysis needs features")
    exact_D = sympy.Matrix(D.shape[0], D.shape[1], [_rational(e) for e in D.flat])
    exact_y = sympy.Matrix(d_y.shape[0], 1, [_rational(e) for e in d_y])
    return exact_D, exact_y


def count_unit_violations(opcodes, arguments, feature_units, target_units) -> int:
    """How often a program combines units inconsistently.

    Constants can carry any units, so ``c * m * a`` fits any target; see
    :func:`lawfinder.kernels.units.unit_violations` for the rules.

    Parameters
    ----------
    opcodes, arguments : sequence of int
        The program, in postfix order.
    feature_units : array-like of shape (n_features, n_dimensions)
        Units of each feature, as rows (``D.T``).
    target_units : array-like of shape (n_dimensions,)
        Units of the target (``d_y``).

    Returns
    -------
    int
        The number of violations; 0 for a consistent program.

    Examples
    --------
    Force from mass and acceleration, then mass plus acceleration:

    >>> from lawfinder.operators import ADD, MUL, VARIABLE
    >>> D, d_y = units_matrix(["kg", "m/s^2"], "N")
    >>> count_unit_violations([VARIABLE, VARIABLE, MUL], [0, 1, 0], D.T, d_y)
    0
    >>> count_unit_violations([VARIABLE, VARIABLE, ADD], [0, 1, 0], D.T, d_y)
    2
    """
    opcodes = np.ascontiguousarray(opcodes, dtype=np.int64)
    arguments = np.ascontiguousarray(arguments, dtype=np.int64)
    target_units = np.ascontiguousarray(target_units, dtype=np.float64)
    feature_units = np.ascontiguousarray(feature_units, dtype=np.float64)
    if feature_units.ndim != 2 or feature_units.shape[1] != target_units.size:
        raise ValueError(
            f"feature_units must have shape (n_features, {target_units.size}), one "
            f"row per feature, got {feature_units.shape}"
        )
    if opcodes.shape != arguments.shape or opcodes.ndim != 1 or opcodes.size == 0:
        raise ValueError(
            f"opcodes and arguments must be non-empty and of equal length, got "
            f"shapes {opcodes.shape} and {arguments.shape}"
        )
    variables = arguments[opcodes == VARIABLE]
    if variables.size and not 0 <= variables.min() <= variables.max() < len(
        feature_units
    ):
        raise ValueError(
            f"the program uses features {sorted(set(variables.tolist()))} but "
            f"feature_units has {len(feature_units)} rows"
        )
    stack = unit_stack(opcodes.size, target_units.size)
    return int(
        unit_violations(
            opcodes, arguments, opcodes.size, feature_units, target_units, stack
        )
    )
