"""Export equations of the Pareto front: a LaTeX table, numpy, PyTorch and JAX.

The functions walk the postfix program with the operator names of the
operator table, so each export computes the same tree the kernels evaluate.
PyTorch and JAX are optional: ``pip install torch`` or ``pip install jax``
(or the extras ``lawfinder[torch]`` and ``lawfinder[jax]``).
"""

from __future__ import annotations

import functools
import importlib
import operator as python_operator
from collections.abc import Callable, Sequence
from numbers import Integral

import numpy as np
import sympy

from .expression import Expression
from .printing import fold_program, format_uncertainty, make_symbol

# Significant digits of the loss in the LaTeX table.
_LOSS_DIGITS = 3


def _array_functions(module) -> dict[str, Callable]:
    """Each operator of the table on the arrays of ``module`` (numpy, torch, jnp)."""
    # Arithmetic goes through Python's operators, which every array library
    # defines; cube and inv are written as the kernels compute them.
    return {
        "add": python_operator.add,
        "sub": python_operator.sub,
        "mul": python_operator.mul,
        "div": python_operator.truediv,
        "pow": python_operator.pow,
        "neg": python_operator.neg,
        "square": module.square,
        "cube": lambda a: a * a * a,
        "sqrt": module.sqrt,
        "exp": module.exp,
        "log": module.log,
        "sin": module.sin,
        "cos": module.cos,
        "tan": module.tan,
        "tanh": module.tanh,
        "abs": module.abs,
        "inv": lambda a: 1.0 / a,
    }


def _fold(
    expression: Expression,
    column: Callable[[int], object],
    constant: Callable[[int], object],
    functions: dict[str, Callable],
):
    """Value of ``expression`` built from features, constants and array functions."""
    return fold_program(
        expression.opcodes,
        expression.arguments,
        column,
        constant,
        lambda operator, operands: functions[operator.name](*operands),
    )


def _check_shape(shape: tuple[int, ...], variable_names: Sequence[str]) -> None:
    if len(shape) != 2 or shape[1] != len(variable_names):
        raise ValueError(
            f"X must have shape (n_rows, {len(variable_names)}), one column per "
            f"variable {list(variable_names)}; got shape {tuple(shape)}"
        )


def _import_optional(module: str, package: str):
    """Import ``module``, or say which package to install for it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"this export needs {package}, which is not installed; install it "
            f"with `pip install {package}` (or `pip install lawfinder[{package}]`)"
        ) from error


class NumpyFunction:
    """An equation as a plain numpy function of ``X``; made by :func:`to_numpy`.

    Calling it with an array of shape (n_rows, n_features) returns an array of
    shape (n_rows,). It pickles, with the expression it holds.
    """

    def __init__(self, expression: Expression) -> None:
        self.expression = expression

    def __call__(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        _check_shape(X.shape, self.expression.variable_names)
        constants = self.expression.constants
        with np.errstate(all="ignore"):
            values = _fold(
                self.expression,
                lambda index: X[:, index],
                lambda slot: constants[slot],
                _array_functions(np),
            )
        return np.array(np.broadcast_to(values, X.shape[:1]), dtype=np.float64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expression})"


def to_numpy(expression: Expression) -> NumpyFunction:
    """An equation as a numpy function ``f(X)`` of a 2-D array.

    Parameters
    ----------
    expression : Expression
        The equation.

    Returns
    -------
    NumpyFunction
        A callable: ``f(X)`` with ``X`` of shape (n_rows, n_features), columns
        in the order of ``expression.variable_names``, returns float64 values
        of shape (n_rows,); nan or inf where the equation is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> f = to_numpy(Expression.from_string("x0 * 2.5 + x1"))
    >>> f(np.array([[1.0, 1.0], [2.0, 0.0]]))
    array([3.5, 5. ])
    """
    return NumpyFunction(expression)


@functools.cache
def _torch_module_class():
    """The ``torch.nn.Module`` subclass of :func:`to_torch`, made on first use."""
    torch = _import_optional("torch", "torch")

    class TorchEquation(torch.nn.Module):
        """One equation; its constants are the trainable parameter ``constants``."""

        def __init__(self, expression: Expression, dtype) -> None:
            super().__init__()
            self.expression = expression
            values = torch.tensor(np.array(expression.constants), dtype=dtype)
            self.constants = torch.nn.Parameter(values)

        def forward(self, X):
            _check_shape(tuple(X.shape), self.expression.variable_names)
            values = _fold(
                self.expression,
                lambda index: X[:, index],
                lambda slot: self.constants[slot],
                _array_functions(torch),
            )
            return values.expand(X.shape[0]) if values.dim() == 0 else values

        def extra_repr(self) -> str:
            names = list(self.expression.variable_names)
            return f"{self.expression}, variables={names}"

    return TorchEquation


def to_torch(expression: Expression, dtype=None):
    """An equation as a PyTorch module with trainable constants.

    Parameters
    ----------
    expression : Expression
        The equation.
    dtype : torch.dtype, optional
        Type of the constants; ``torch.float64`` when None, so the module
        computes what ``predict`` does. ``module.float()`` converts it.

    Returns
    -------
    torch.nn.Module
        ``module(X)`` with ``X`` a tensor of shape (n_rows, n_features)
        returns a tensor of shape (n_rows,). The constants are one
        ``torch.nn.Parameter``, ``module.constants``, of shape
        (n_constants,), in the slots of ``expression.constants``; an
        optimiser trains them.

    Raises
    ------
    ImportError
        If PyTorch is not installed (``pip install torch``).

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> module = to_torch(Expression.from_string("x0 * 2.5"))  # doctest: +SKIP
    >>> module(torch.tensor([[2.0]], dtype=torch.float64))  # doctest: +SKIP
    tensor([5.], dtype=torch.float64, grad_fn=<MulBackward0>)
    """
    torch = _import_optional("torch", "torch")
    module_class = _torch_module_class()
    return module_class(expression, torch.float64 if dtype is None else dtype)


def to_jax(expression: Expression):
    """An equation as a pure JAX function of the data and the constants.

    Parameters
    ----------
    expression : Expression
        The equation.

    Returns
    -------
    function : callable
        ``function(X, constants)`` with ``X`` of shape (n_rows, n_features)
        returns an array of shape (n_rows,). It is pure, so ``jax.jit``
        compiles it and ``jax.grad`` differentiates it with respect to the
        constants.
    constants : jax.Array of shape (n_constants,)
        The fitted constants, to pass as the second argument. JAX computes in
        float32 unless ``jax.config.update("jax_enable_x64", True)`` was run
        before this call.

    Raises
    ------
    ImportError
        If JAX is not installed (``pip install jax``).

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> function, constants = to_jax(Expression.from_string("x0 * 2.5"))
    ... # doctest: +SKIP
    >>> jax.jit(function)(jax.numpy.ones((3, 1)), constants)  # doctest: +SKIP
    Array([2.5, 2.5, 2.5], dtype=float32)
    """
    jax_numpy = _import_optional("jax.numpy", "jax")
    functions = _array_functions(jax_numpy)
    variable_names = expression.variable_names

    def function(X, constants):
        # As a jax array, X keeps subtrees without constants in jax too.
        X = jax_numpy.asarray(X)
        _check_shape(tuple(X.shape), variable_names)
        values = _fold(
            expression,
            lambda index: X[:, index],
            lambda slot: constants[slot],
            functions,
        )
        return jax_numpy.broadcast_to(values, X.shape[:1])

    return function, jax_numpy.asarray(np.array(expression.constants))


def latex_table(
    equations,
    indices: Sequence[int] | None = None,
    target_name: str = "y",
    precision: int | None = None,
) -> str:
    r"""The Pareto front as a LaTeX table, constants with their uncertainties.

    A ``tabular`` with booktabs rules (``\usepackage{booktabs}``) and the
    columns complexity, DoF (number of fitted constants), equation and loss
    (weighted mean squared error), one row per equation; wrap it in a
    ``table`` float to give it a caption. Constants print as ``1.086(11)``
    (see :func:`lawfinder.printing.format_uncertainty`), the equation
    following the program's tree.

    Parameters
    ----------
    equations : pandas.DataFrame
        The ``equations_`` table of a fitted ``SymbolicRegressor``.
    indices : sequence of int, optional
        Rows of ``equations`` to show, by position; all of them when None.
    target_name : str, default "y"
        Left-hand side of each equation.
    precision : int, optional
        Significant digits of constants whose uncertainty is unknown or zero;
        all of them when None.

    Returns
    -------
    str
        LaTeX source.

    Examples
    --------
    >>> print(latex_table(model.equations_, indices=[2]))  # doctest: +SKIP
    \begin{tabular}{@{}rrlr@{}}
    \toprule
    Complexity & DoF & Equation & Loss \\
    \midrule
    5 & 1 & $y = 1.086(11) \cdot {x_{0}}^{2}$ & $1.21 \times 10^{-4}$ \\
    \bottomrule
    \end{tabular}
    """
    positions = _checked_positions(indices, len(equations))
    left_side = sympy.latex(make_symbol(target_name))
    lines = [
        r"\begin{tabular}{@{}rrlr@{}}",
        r"\toprule",
        r"Complexity & DoF & Equation & Loss \\",
        r"\midrule",
    ]
    for position in positions:
        row = equations.iloc[position]
        equation = row["expression"].to_latex(precision=precision, uncertainties=True)
        loss = format_uncertainty(row["loss"], np.nan, _LOSS_DIGITS, latex=True)
        lines.append(
            f"{int(row['complexity'])} & {int(row['dof'])} & "
            f"${left_side} = {equation}$ & ${loss}$ \\\\"
        )
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


def _checked_positions(indices, n_rows: int) -> list[int]:
    if indices is None:
        return list(range(n_rows))
    positions = []
    for index in indices:
        if isinstance(index, bool) or not isinstance(index, Integral):
            raise TypeError(f"indices must be integer rows, got {index!r}")
        if not -n_rows <= index < n_rows:
            raise IndexError(
                f"index {index} is out of range: the table has {n_rows} rows, "
                f"0 to {n_rows - 1}"
            )
        positions.append(int(index))
    return positions
