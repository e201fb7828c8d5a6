"""Print postfix programs as infix text, sympy expressions and LaTeX.

Every printer folds the program bottom-up with a stack, the same walk the
kernels make. The text shows exactly the tree the kernels evaluate; sympy,
and the LaTeX printed through it, show the same function in sympy's own
canonical form.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import sympy

from .operators import BY_OPCODE, CONSTANT, OPERATORS, VARIABLE, Operator

# Unary minus binds tighter than * and / but looser than ^, as in Python:
# "-x ^ 2" means -(x ^ 2) and "-x * y" means (-x) * y.
UNARY_MINUS_PRECEDENCE = OPERATORS["pow"].precedence - 1
RIGHT_ASSOCIATIVE = frozenset({"pow"})

# Variables, numbers and function calls never need parentheses.
_ATOM_PRECEDENCE = math.inf


def default_variable_names(n_features: int) -> tuple[str, ...]:
    """Names ``x0, x1, ...`` for ``n_features`` unnamed features."""
    return tuple(f"x{index}" for index in range(n_features))


def fold_program(
    opcodes: Sequence[int],
    arguments: Sequence[int],
    on_variable: Callable[[int], Any],
    on_constant: Callable[[int], Any],
    on_operator: Callable[[Operator, list], Any],
) -> Any:
    """Reduce a postfix program bottom-up and return the value left on the stack.

    Parameters
    ----------
    opcodes, arguments : sequence of int
        The program, in postfix order.
    on_variable : callable
        Called with the feature index of each ``VARIABLE`` node.
    on_constant : callable
        Called with the constant slot of each ``CONSTANT`` node.
    on_operator : callable
        Called with the :class:`~lawfinder.operators.Operator` and the list of
        its already reduced operands, left operand first.

    Returns
    -------
    object
        What ``on_operator`` (or a leaf callback) returned for the root.

    Raises
    ------
    ValueError
        If an opcode is unknown, an operator lacks operands, or the program
        does not leave exactly one value.

    Examples
    --------
    The depth of ``x0 * 2.5``:

    >>> from lawfinder.operators import CONSTANT, MUL, VARIABLE
    >>> fold_program([VARIABLE, CONSTANT, MUL], [0, 0, 0],
    ...              lambda index: 1, lambda slot: 1,
    ...              lambda operator, depths: 1 + max(depths))
    2
    """
    if len(opcodes) != len(arguments):
        raise ValueError(
            f"opcodes and arguments must have the same length, got "
            f"{len(opcodes)} and {len(arguments)}"
        )
    stack: list = []
    for position, (opcode, argument) in enumerate(zip(opcodes, arguments, strict=True)):
        opcode, argument = int(opcode), int(argument)
        if opcode == VARIABLE:
            stack.append(on_variable(argument))
            continue
        if opcode == CONSTANT:
            stack.append(on_constant(argument))
            continue

        operator = BY_OPCODE.get(opcode)
        if operator is None:
            known = ", ".join(str(code) for code in sorted(BY_OPCODE))
            raise ValueError(
                f"unknown opcode {opcode} at position {position}; known opcodes "
                f"are {VARIABLE} (variable), {CONSTANT} (constant) and {known}"
            )
        if len(stack) < operator.arity:
            raise ValueError(
                f"malformed program: {operator.name!r} at position {position} "
                f"needs {operator.arity} operands but only {len(stack)} precede it"
            )
        operands = stack[len(stack) - operator.arity :]
        del stack[len(stack) - operator.arity :]
        stack.append(on_operator(operator, operands))

    if len(stack) != 1:
        raise ValueError(
            f"malformed program: it leaves {len(stack)} values instead of one"
        )
    return stack[0]


class _Piece(NamedTuple):
    """Text of a subtree with what decides whether it needs parentheses."""

    text: str
    precedence: float
    signed: bool = False  # starts with a minus sign: -x or a negative number
    number: bool = False  # a bare numeric literal


def format_constant(value: float, precision: int | None = None) -> str:
    """Text of one constant: the shortest that reads back exactly, or rounded.

    Whole numbers drop ``repr``'s trailing ``.0`` (``x ^ 2``, not ``x ^ 2.0``);
    ``precision`` rounds to that many significant digits.
    """
    value = float(value)
    if precision is not None:
        return f"{value:.{precision}g}"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _is_negative(value: float) -> bool:
    return not math.isnan(value) and math.copysign(1.0, value) < 0


def _parenthesise(piece: _Piece) -> str:
    return f"({piece.text})"


def _print_neg(operand: _Piece) -> _Piece:
    # A bare number keeps its parentheses: "-2.5" would read back as a single
    # negative constant, not as neg applied to a constant.
    bare = operand.precedence == _ATOM_PRECEDENCE and not operand.number
    text = operand.text if bare else _parenthesise(operand)
    return _Piece(f"-{text}", UNARY_MINUS_PRECEDENCE, signed=True)


def _print_binary(operator: Operator, left: _Piece, right: _Piece) -> _Piece:
    precedence = operator.precedence
    if operator.name in RIGHT_ASSOCIATIVE:
        left_needs = left.precedence <= precedence or left.signed
        right_needs = right.precedence < precedence or right.signed
    else:
        left_needs = left.precedence < precedence
        right_needs = right.precedence <= precedence or right.signed
    left_text = _parenthesise(left) if left_needs else left.text
    right_text = _parenthesise(right) if right_needs else right.text
    return _Piece(f"{left_text} {operator.text} {right_text}", precedence)


def _print_operator(operator: Operator, operands: list[_Piece]) -> _Piece:
    if operator.name == "neg":
        return _print_neg(operands[0])
    if operator.arity == 2 and not operator.text.isidentifier():
        return _print_binary(operator, *operands)
    inside = ", ".join(operand.text for operand in operands)
    return _Piece(f"{operator.text}({inside})", _ATOM_PRECEDENCE)


def _check_precision(precision: int | None) -> None:
    if precision is None:
        return
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 1:
        raise ValueError(
            f"precision must be None or an integer >= 1, got {precision!r}"
        )


def _names_for(variable_names: Sequence[str] | None, opcodes, arguments):
    if variable_names is not None:
        return tuple(variable_names)
    used = [
        int(a) for o, a in zip(opcodes, arguments, strict=True) if int(o) == VARIABLE
    ]
    return default_variable_names(max(used, default=-1) + 1)


def _checked_lookup(items: Sequence, kind: str) -> Callable[[int], Any]:
    def lookup(index: int):
        if not 0 <= index < len(items):
            raise ValueError(
                f"{kind} index {index} is out of range; there are {len(items)} {kind}s"
            )
        return items[index]

    return lookup


def to_text(
    opcodes: Sequence[int],
    arguments: Sequence[int],
    constants: Sequence[float],
    variable_names: Sequence[str] | None = None,
    precision: int | None = None,
) -> str:
    """Print a program as infix text with as few parentheses as possible.

    Binary operators print as ``+ - * / ^`` with the usual precedence and
    associativity (``^`` is right-associative), ``neg`` prints as a leading
    minus, and other operators print as function calls. Negative constants and
    negations are parenthesised where they follow a binary operator.

    Parameters
    ----------
    opcodes, arguments : sequence of int
        The program, in postfix order.
    constants : sequence of float
        Values of the constant slots.
    variable_names : sequence of str, optional
        Name of each feature; ``x0, x1, ...`` when None.
    precision : int, optional
        Significant digits of each constant. By default constants print in the
        shortest form that reads back to the same float.

    Returns
    -------
    str
        Text that :func:`lawfinder.parsing.parse` reads back to the same
        program (exactly so when ``precision`` is None).

    Examples
    --------
    >>> from lawfinder.operators import ADD, CONSTANT, MUL, SIN, VARIABLE
    >>> to_text([VARIABLE, CONSTANT, MUL, VARIABLE, SIN, ADD],
    ...         [0, 0, 0, 1, 0, 0], [2.5])
    'x0 * 2.5 + sin(x1)'
    """
    _check_precision(precision)
    names = _checked_lookup(_names_for(variable_names, opcodes, arguments), "feature")
    values = _checked_lookup(constants, "constant")

    def constant(slot: int) -> _Piece:
        value = float(values(slot))
        text = format_constant(value, precision)
        if _is_negative(value):
            return _Piece(text, UNARY_MINUS_PRECEDENCE, signed=True, number=True)
        return _Piece(text, _ATOM_PRECEDENCE, number=True)

    root = fold_program(
        opcodes,
        arguments,
        lambda index: _Piece(names(index), _ATOM_PRECEDENCE),
        constant,
        _print_operator,
    )
    return root.text


def make_symbol(name: str) -> sympy.Symbol:
    """The sympy symbol of a variable: its name unchanged, assumed real.

    ``sympy.Symbol`` takes any string as it is (unlike ``sympy.symbols``,
    which splits on commas and spaces), so names such as ``"m.1"`` or
    ``"E kin"`` stay one symbol; ``sympy.lambdify`` renames such symbols
    itself.
    """
    return sympy.Symbol(name, real=True)


def _constant_symbol_names(n_constants: int, taken: set[str]) -> list[str]:
    prefix = "c"
    while any(f"{prefix}{slot}" in taken for slot in range(n_constants)):
        prefix += "_"
    return [f"{prefix}{slot}" for slot in range(n_constants)]


def _sympy_constant(value: float, precision: int | None) -> sympy.Expr:
    if precision is None:
        return sympy.Float(value)
    if not math.isfinite(value):
        return sympy.Float(value)
    return sympy.Float(float(format_constant(value, precision)), precision)


class _SympyPiece(NamedTuple):
    """A sympy subtree, with its float64 value when it has no variables."""

    expression: sympy.Expr
    value: np.float64 | None


def _apply_sympy(
    operator: Operator, operands: list[_SympyPiece], precision: int | None
) -> _SympyPiece:
    values = [operand.value for operand in operands]
    if all(value is not None for value in values):
        # Constant subtrees are computed as the kernels compute them, in
        # float64; mpmath could spend minutes on exp(exp(exp(9))).
        value = np.float64(operator.numpy(*values))
        return _SympyPiece(_sympy_constant(float(value), precision), value)
    try:
        expression = operator.sympy(*(operand.expression for operand in operands))
    except ZeroDivisionError:
        # sympy raises, rather than giving complex infinity, when it divides
        # a Float by a Float zero.
        expression = sympy.zoo
    return _SympyPiece(expression, None)


def to_sympy(
    opcodes: Sequence[int],
    arguments: Sequence[int],
    constants: Sequence[float],
    variable_names: Sequence[str] | None = None,
    symbols: Sequence[sympy.Symbol] | None = None,
    constant_symbols: bool = False,
    precision: int | None = None,
):
    """Build the sympy expression of a program.

    Parameters
    ----------
    opcodes, arguments : sequence of int
        The program, in postfix order.
    constants : sequence of float
        Values of the constant slots.
    variable_names : sequence of str, optional
        Name of each feature; ``x0, x1, ...`` when None. Each becomes a real
        ``sympy.Symbol`` of the same name (see :func:`make_symbol`).
    symbols : sequence of sympy.Symbol, optional
        Symbols to use for the features instead, one per feature.
    constant_symbols : bool, default False
        If True, each constant slot becomes a symbol ``c0, c1, ...`` (with
        underscores added should a variable already use such a name) and the
        function returns the expression together with the symbol values.
    precision : int, optional
        Significant digits kept in each ``sympy.Float``; all of them when None.

    Returns
    -------
    sympy.Expr or tuple of (sympy.Expr, dict)
        The expression, with constants as ``sympy.Float``; with
        ``constant_symbols=True``, the expression and a dict from each
        constant symbol to its value.

    Examples
    --------
    >>> from lawfinder.operators import ADD, CONSTANT, MUL, SIN, VARIABLE
    >>> to_sympy([VARIABLE, CONSTANT, MUL, VARIABLE, SIN, ADD],
    ...          [0, 0, 0, 1, 0, 0], [2.5])
    2.5*x0 + sin(x1)
    """
    _check_precision(precision)
    names = _names_for(variable_names, opcodes, arguments)
    if symbols is None:
        symbols = [make_symbol(name) for name in names]
    elif len(symbols) != len(names):
        raise ValueError(
            f"got {len(symbols)} symbols for {len(names)} variables {list(names)}"
        )
    variables = _checked_lookup(list(symbols), "feature")

    values = [float(value) for value in constants]
    if constant_symbols:
        symbol_names = _constant_symbol_names(len(values), set(names))
        leaves = [sympy.Symbol(name, real=True) for name in symbol_names]
        constant_pieces = [_SympyPiece(leaf, None) for leaf in leaves]
    else:
        constant_pieces = [
            _SympyPiece(_sympy_constant(value, precision), np.float64(value))
            for value in values
        ]
    constant_leaves = _checked_lookup(constant_pieces, "constant")

    root = fold_program(
        opcodes,
        arguments,
        lambda index: _SympyPiece(variables(index), None),
        constant_leaves,
        lambda operator, operands: _apply_sympy(operator, operands, precision),
    )
    if constant_symbols:
        return root.expression, dict(zip(leaves, values, strict=True))
    return root.expression


def to_latex(
    opcodes: Sequence[int],
    arguments: Sequence[int],
    constants: Sequence[float],
    variable_names: Sequence[str] | None = None,
    precision: int | None = None,
) -> str:
    r"""Print a program as LaTeX, through sympy's printer.

    sympy orders terms and factors its own way and merges numbers, so the
    LaTeX shows the same function as the program in a conventional form.

    Parameters
    ----------
    opcodes, arguments : sequence of int
        The program, in postfix order.
    constants : sequence of float
        Values of the constant slots.
    variable_names : sequence of str, optional
        Name of each feature; ``x0, x1, ...`` when None.
    precision : int, optional
        Significant digits of each constant; all of them when None.

    Returns
    -------
    str
        LaTeX source, without surrounding dollar signs.

    Examples
    --------
    >>> from lawfinder.operators import CONSTANT, DIV, SQRT, VARIABLE
    >>> print(to_latex([VARIABLE, SQRT, CONSTANT, DIV], [0, 0, 0, 0], [2.0]))
    0.5 \sqrt{x_{0}}
    """
    expression = to_sympy(
        opcodes, arguments, constants, variable_names, precision=precision
    )
    return sympy.latex(expression)
