"""The ``Expression`` users see: one program that prints, parses and evaluates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sympy

from .kernels.evaluate import evaluate_program
from .operators import ARITY, CONSTANT, N_OPCODES, VARIABLE
from .parsing import check_variable_names, from_sympy, parse
from .printing import default_variable_names, to_latex, to_sympy, to_text


def _as_index_array(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size and array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    return np.array(array, dtype=np.int64)


def _as_float_array(values, name: str) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _check_leaves(
    opcodes: np.ndarray, arguments: np.ndarray, opcode: int, limit: int, kind: str
) -> None:
    """Arguments of ``opcode`` leaves must lie in ``0 .. limit - 1``."""
    leaf = opcodes == opcode
    bad = np.flatnonzero(leaf & ((arguments < 0) | (arguments >= limit)))
    if bad.size:
        position = bad[0]
        raise ValueError(
            f"{kind} index {arguments[position]} at position {position} is out "
            f"of range; there are {limit} {kind}s (indices 0 to {limit - 1})"
        )


def _check_program(
    opcodes: np.ndarray, arguments: np.ndarray, n_constants: int, n_features: int
) -> None:
    """Raise ValueError unless the arrays form one well-formed postfix program."""
    if len(opcodes) != len(arguments):
        raise ValueError(
            f"opcodes and arguments must have the same length, got "
            f"{len(opcodes)} and {len(arguments)}"
        )
    if len(opcodes) == 0:
        raise ValueError("a program needs at least one node; opcodes is empty")
    unknown = np.flatnonzero((opcodes < 0) | (opcodes >= N_OPCODES))
    if unknown.size:
        position = unknown[0]
        raise ValueError(
            f"unknown opcode {opcodes[position]} at position {position}; opcodes "
            f"run from 0 to {N_OPCODES - 1}"
        )

    # Stack height after each node: a leaf pushes one value, an operator of
    # arity a pops a and pushes one. It must never drop below one.
    heights = np.cumsum(1 - ARITY[opcodes])
    underflow = np.flatnonzero(heights < 1)
    if underflow.size:
        position = underflow[0]
        raise ValueError(
            f"malformed program: the operator at position {position} has "
            f"{ARITY[opcodes[position]]} operands but fewer values precede it"
        )
    if heights[-1] != 1:
        raise ValueError(
            f"malformed program: it leaves {heights[-1]} values instead of one"
        )

    _check_leaves(opcodes, arguments, VARIABLE, n_features, "feature")
    _check_leaves(opcodes, arguments, CONSTANT, n_constants, "constant")


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


class Expression:
    """One closed-form expression: a postfix program over named variables.

    Parameters
    ----------
    opcodes : array-like of int, shape (n_nodes,)
        Opcodes of the program in postfix order (see :mod:`lawfinder.operators`).
    arguments : array-like of int, shape (n_nodes,)
        Feature index of each ``VARIABLE`` node, constant slot of each
        ``CONSTANT`` node; ignored for operators.
    constants : array-like of float, shape (n_constants,)
        Values of the constant slots.
    variable_names : sequence of str
        Name of each feature; feature ``i`` is ``variable_names[i]``.
    constant_errors : array-like of float, shape (n_constants,), optional
        Standard uncertainty of each constant; unknown (nan) when None.

    Raises
    ------
    ValueError
        If the arrays do not form one well-formed postfix program, or an
        argument is not a valid feature index or constant slot.

    Examples
    --------
    >>> import numpy as np
    >>> expression = Expression.from_string("x * 2.5 + sin(y)", ["x", "y"])
    >>> print(expression)
    x * 2.5 + sin(y)
    >>> expression.complexity, expression.n_constants
    (6, 1)
    >>> expression.evaluate(np.array([[1.0, 0.0], [2.0, 0.0]]))
    array([2.5, 5. ])
    """

    def __init__(
        self,
        opcodes,
        arguments,
        constants,
        variable_names: Sequence[str],
        constant_errors=None,
    ) -> None:
        check_variable_names(variable_names)
        if variable_names is None:
            raise ValueError(
                "variable_names is required; use Expression.from_string to name "
                "variables x0, x1, ... automatically"
            )
        self._variable_names = tuple(variable_names)
        self._opcodes = _as_index_array(opcodes, "opcodes")
        self._arguments = _as_index_array(arguments, "arguments")
        self._constants = _as_float_array(constants, "constants")
        _check_program(
            self._opcodes,
            self._arguments,
            len(self._constants),
            len(self._variable_names),
        )

        if constant_errors is None:
            constant_errors = np.full(len(self._constants), np.nan)
        self._constant_errors = _as_float_array(constant_errors, "constant_errors")
        if len(self._constant_errors) != len(self._constants):
            raise ValueError(
                f"constant_errors has {len(self._constant_errors)} entries but "
                f"there are {len(self._constants)} constants"
            )

    @classmethod
    def from_string(
        cls, text: str, variable_names: Sequence[str] | None = None
    ) -> Expression:
        """Read an expression from infix text.

        Parameters
        ----------
        text : str
            The formula, in the grammar of :func:`lawfinder.parsing.parse`.
        variable_names : sequence of str, optional
            Allowed variable names. When None, variables are ``x0, x1, ...``
            and the expression has as many features as the highest index used
            plus one.

        Returns
        -------
        Expression

        Examples
        --------
        >>> Expression.from_string("sqrt(x1) / 2").variable_names
        ('x0', 'x1')
        """
        opcodes, arguments, constants = parse(text, variable_names)
        if variable_names is None:
            used = arguments[opcodes == VARIABLE]
            variable_names = default_variable_names(int(used.max(initial=-1)) + 1)
        return cls(opcodes, arguments, constants, variable_names)

    @classmethod
    def from_sympy(
        cls, expression: sympy.Expr, variable_names: Sequence[str]
    ) -> Expression:
        """Build an expression from a sympy expression.

        Parameters
        ----------
        expression : sympy.Expr
            The expression, over symbols named as the variables.
        variable_names : sequence of str
            Feature names; see :func:`lawfinder.parsing.from_sympy`.

        Returns
        -------
        Expression

        Examples
        --------
        >>> x = sympy.Symbol("x")
        >>> print(Expression.from_sympy(sympy.exp(-x / 2), ["x"]))
        exp(-x / 2)
        """
        opcodes, arguments, constants = from_sympy(expression, variable_names)
        return cls(opcodes, arguments, constants, variable_names)

    # Program ----------------------------------------------------------------

    @property
    def opcodes(self) -> np.ndarray:
        """Opcodes in postfix order, shape (n_nodes,), read-only."""
        return _read_only(self._opcodes)

    @property
    def arguments(self) -> np.ndarray:
        """Feature index or constant slot of each node, read-only."""
        return _read_only(self._arguments)

    @property
    def constants(self) -> np.ndarray:
        """Values of the constant slots, shape (n_constants,), read-only."""
        return _read_only(self._constants)

    @property
    def constant_errors(self) -> np.ndarray:
        """Standard uncertainty of each constant (nan where unknown), read-only."""
        return _read_only(self._constant_errors)

    @property
    def variable_names(self) -> tuple[str, ...]:
        """Name of each feature, in feature order."""
        return self._variable_names

    @property
    def complexity(self) -> int:
        """Number of nodes of the program."""
        return len(self._opcodes)

    @property
    def n_constants(self) -> int:
        """Number of constant slots."""
        return len(self._constants)

    # Printing ---------------------------------------------------------------

    def _program(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._opcodes, self._arguments, self._constants

    def to_text(self, precision: int | None = None, uncertainties: bool = False) -> str:
        """Infix text of the expression.

        Parameters
        ----------
        precision : int, optional
            Significant digits of each constant; by default the shortest text
            that reads back to the same value.
        uncertainties : bool, default False
            Print each constant with its standard error in concise notation,
            ``1.086(11)`` (see :func:`lawfinder.printing.format_uncertainty`);
            ``precision`` then applies only where the error is unknown or
            zero. Such text does not parse back.

        Returns
        -------
        str

        Examples
        --------
        >>> Expression.from_string("x0 * 3.14159265").to_text(precision=3)
        'x0 * 3.14'
        """
        return to_text(
            *self._program(),
            self._variable_names,
            precision=precision,
            constant_errors=self._constant_errors if uncertainties else None,
        )

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        # Text keeps every constant exactly, so this repr evaluates back to an
        # equal expression (less the constant uncertainties).
        return (
            f"{type(self).__name__}.from_string({self.to_text()!r}, "
            f"{list(self._variable_names)!r})"
        )

    def to_sympy(self, constant_symbols: bool = False):
        """The sympy form of the expression, over real symbols named as the variables.

        Parameters
        ----------
        constant_symbols : bool, default False
            If True, constants become symbols ``c0, c1, ...`` and the method
            returns the expression together with a dict of their values.

        Returns
        -------
        sympy.Expr or tuple of (sympy.Expr, dict)

        Examples
        --------
        >>> Expression.from_string("x0 * 2 + x0").to_sympy()
        3*x0
        """
        return to_sympy(
            *self._program(), self._variable_names, constant_symbols=constant_symbols
        )

    def to_latex(
        self, precision: int | None = None, uncertainties: bool = False
    ) -> str:
        r"""LaTeX source of the expression, without surrounding dollar signs.

        Parameters
        ----------
        precision : int, optional
            Significant digits of each constant; all of them when None.
        uncertainties : bool, default False
            Print each constant with its standard error, ``1.086(11)``,
            following the program's tree rather than sympy's form (see
            :func:`lawfinder.printing.to_latex`).

        Returns
        -------
        str

        Examples
        --------
        >>> print(Expression.from_string("sqrt(x0) * 0.12345").to_latex(precision=2))
        0.12 \sqrt{x_{0}}
        """
        return to_latex(
            *self._program(),
            self._variable_names,
            precision=precision,
            constant_errors=self._constant_errors if uncertainties else None,
        )

    def simplify(self) -> Expression:
        """A new expression from sympy's simplification of this one.

        Constant uncertainties do not carry over: the simplified constants are
        combinations of the old ones.

        Returns
        -------
        Expression

        Examples
        --------
        >>> print(Expression.from_string("x0 * x0 + x0 / inv(x0)").simplify())
        2 * square(x0)
        """
        simplified = sympy.simplify(self.to_sympy())
        return type(self).from_sympy(simplified, self._variable_names)

    # Evaluation -------------------------------------------------------------

    def _transposed_features(self, X) -> np.ndarray:
        """``X`` as a C-contiguous float64 array of shape (n_features, n_rows)."""
        names = self._variable_names
        if isinstance(X, pd.DataFrame):
            missing = [name for name in names if name not in X.columns]
            if missing:
                raise ValueError(
                    f"the DataFrame lacks the columns {missing}; the expression "
                    f"uses {list(names)}. Rename the columns, or pass "
                    "X.to_numpy() to match columns by position"
                )
            X = X[list(names)].to_numpy(dtype=np.float64)
        else:
            X = np.asarray(X, dtype=np.float64)

        if X.ndim != 2:
            raise ValueError(
                f"X must be two-dimensional (n_rows, n_features), got shape "
                f"{X.shape}; reshape a single feature with X.reshape(-1, 1)"
            )
        if X.shape[1] != len(names):
            raise ValueError(
                f"X has {X.shape[1]} columns but the expression has "
                f"{len(names)} features {list(names)}"
            )
        return np.ascontiguousarray(X.T)

    def evaluate(self, X) -> np.ndarray:
        """Value of the expression on every row of ``X``.

        Invalid operations give nan or inf, as in numpy; nothing is replaced.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features) or pandas.DataFrame
            The data. A DataFrame's columns are matched by variable name.

        Returns
        -------
        numpy.ndarray of shape (n_rows,)

        Examples
        --------
        >>> import numpy as np
        >>> Expression.from_string("x0 ^ 2").evaluate(np.array([[3.0], [-1.0]]))
        array([9., 1.])
        """
        XT = self._transposed_features(X)
        out = np.empty(XT.shape[1], dtype=np.float64)
        evaluate_program(
            self._opcodes,
            self._arguments,
            len(self._opcodes),
            self._constants,
            XT,
            out,
        )
        return out
