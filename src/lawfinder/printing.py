"""Print postfix programs as infix text, sympy expressions and LaTeX.

Every printer folds the program bottom-up with a stack, the same walk the
kernels make. The text shows exactly the tree the kernels evaluate; sympy,
and the LaTeX printed through it, show the same function in sympy's own
canonical form. Constants may print with their standard errors in the concise
notation of physics papers, ``1.086(11)``; LaTeX with errors then follows the
tree, since sympy would merge the constants and lose their errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal, localcontext
from typing import Any, NamedTuple

import numpy as np
import sympy

from .operators import BY_OPCODE, CONSTANT, OPERATORS, VARIABLE, Operator

# Unary minus binds tighter than * and / but looser than ^, as in Python:
# "-x ^ 2" means -(x ^ 2) and "-x * y" means (-x) * y.
UNARY_MINUS_PRECEDENCE = OPERATORS["pow"].precedence - 1
RIGHT_ASSOCIATIVE = frozenset({"pow"})
ADD_PRECEDENCE = OPERATORS["add"].precedence
MUL_PRECEDENCE = OPERATORS["mul"].precedence
POW_PRECEDENCE = OPERATORS["pow"].precedence

# In LaTeX these print as a superscript or a fraction: a base of a power
# made from them needs parentheses, a neighbour in a product does not.
_LATEX_RAISED = frozenset({"pow", "square", "cube", "exp", "div", "inv"})
_LATEX_POWERS = frozenset({"pow", "square", "cube"})

# Concise notation stays in fixed point from 0.001 up to a million.
_FIXED_EXPONENTS = range(-3, 6)

# A float64 has at most 767 significant decimal digits; rounding one exactly
# needs a decimal context at least that wide.
_DECIMAL_DIGITS = 800

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


def format_uncertainty(
    value: float, error: float, precision: int | None = None, latex: bool = False
) -> str:
    r"""A value with its standard error in concise notation, as in ``1.086(11)``.

    The error is rounded to two significant digits, which then stand in
    parentheses for the last two digits of the value, rounded to the same
    place: 1.0863 +- 0.0112 is ``1.086(11)``. Numbers from 0.001 up to a million
    print in fixed point unless the error reaches 100; others get a power of
    ten, as in ``1.234(21)e-04``, which scales both the value and the error.

    Parameters
    ----------
    value : float
        The value.
    error : float
        Its standard error, >= 0. When it is nan, infinite, zero or below
        the spacing of floats at ``value`` (or the value is not finite), the
        value prints alone, as :func:`format_constant` prints it with
        ``precision``.
    precision : int, optional
        Significant digits of a value printed alone; all of them when None.
    latex : bool, default False
        Write a power of ten as ``\times 10^{-4}`` and infinity as
        ``\infty``, for LaTeX math mode.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``error`` is negative.

    Examples
    --------
    >>> format_uncertainty(1.0863, 0.0112)
    '1.086(11)'
    >>> format_uncertainty(0.0001234, 0.0000021)
    '1.234(21)e-04'
    >>> format_uncertainty(2.5, float("nan"))
    '2.5'
    """
    value, error = float(value), float(error)
    if error < 0:
        raise ValueError(f"a standard error must be >= 0, got {error!r}")
    known = math.isfinite(error) and math.isfinite(value)
    if not known or error < math.ulp(value):
        text = format_constant(value, precision)
        return _latex_number(text) if latex else text

    # "%.1e" rounds the error to two significant digits, carrying into a new
    # digit where it must: 0.0996 becomes 1.0e-01.
    mantissa, exponent = f"{error:.1e}".split("e")
    error_digits = mantissa.replace(".", "")
    last_place = int(exponent) - 1
    with localcontext() as context:
        context.prec = _DECIMAL_DIGITS
        rounded = Decimal(value).quantize(Decimal(1).scaleb(last_place))
        if rounded == 0:
            rounded = rounded.copy_abs()  # no "-0.00(12)"
        leading = (
            int(exponent) if rounded == 0 else max(rounded.adjusted(), int(exponent))
        )
        if last_place <= 0 and leading in _FIXED_EXPONENTS:
            return f"{rounded:f}({error_digits})"
        scaled = rounded.scaleb(-leading).quantize(
            Decimal(1).scaleb(last_place - leading)
        )

    if latex:
        return rf"{scaled:f}({error_digits}) \times 10^{{{leading}}}"
    return f"{scaled:f}({error_digits})e{leading:+03d}"


def _latex_number(text: str) -> str:
    r"""``1.5e-05`` as ``1.5 \times 10^{-5}``, ``inf`` as ``\infty``."""
    sign = "-" if text.startswith("-") else ""
    magnitude = text.removeprefix("-")
    if magnitude == "inf":
        return rf"{sign}\infty"
    if magnitude == "nan":
        return r"\mathrm{nan}"
    if "e" not in magnitude:
        return text
    mantissa, exponent = magnitude.split("e")
    return rf"{sign}{mantissa} \times 10^{{{int(exponent)}}}"


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


def _operand_texts(
    operator: Operator,
    left: _Piece,
    right: _Piece,
    parenthesise: Callable[[_Piece], str],
) -> tuple[str, str]:
    """Texts of the operands of a binary operator, parenthesised where needed."""
    precedence = operator.precedence
    if operator.name in RIGHT_ASSOCIATIVE:
        left_needs = left.precedence <= precedence or left.signed
        right_needs = right.precedence < precedence or right.signed
    else:
        left_needs = left.precedence < precedence
        right_needs = right.precedence <= precedence or right.signed
    left_text = parenthesise(left) if left_needs else left.text
    right_text = parenthesise(right) if right_needs else right.text
    return left_text, right_text


def _print_binary(operator: Operator, left: _Piece, right: _Piece) -> _Piece:
    left_text, right_text = _operand_texts(operator, left, right, _parenthesise)
    return _Piece(f"{left_text} {operator.text} {right_text}", operator.precedence)


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
    constant_errors: Sequence[float] | None = None,
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
    constant_errors : sequence of float, optional
        Standard error of each constant slot. When given, each constant
        prints with its error as :func:`format_uncertainty` does, such as
        ``1.086(11)``; ``precision`` then applies only to constants whose
        error is unknown or zero.

    Returns
    -------
    str
        Text that :func:`lawfinder.parsing.parse` reads back to the same
        program (exactly so when ``precision`` is None), unless
        ``constant_errors`` adds uncertainties.

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
    errors = _error_lookup(constants, constant_errors)

    def constant(slot: int) -> _Piece:
        value = float(values(slot))
        if errors is None:
            text = format_constant(value, precision)
        else:
            text = format_uncertainty(value, errors(slot), precision)
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


def _error_lookup(constants: Sequence[float], constant_errors) -> Callable | None:
    if constant_errors is None:
        return None
    if len(constant_errors) != len(constants):
        raise ValueError(
            f"constant_errors has {len(constant_errors)} entries but there are "
            f"{len(constants)} constants"
        )
    return _checked_lookup([float(error) for error in constant_errors], "constant")


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
        # A constant snapped to a simple number (1/2, pi, ...) prints exactly.
        from .priors.constants import exact_value

        exact = exact_value(float(value))
        return sympy.Float(value) if exact is None else exact
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
        The expression, with constants as ``sympy.Float``, except that a
        constant equal to the float of a simple number (1/2, 3, pi/4, ...; see
        ``priors.constants.exact_value``) is that number exactly when
        ``precision`` is None; with ``constant_symbols=True``, the expression
        and a dict from each constant symbol to its value.

    Examples
    --------
    >>> from lawfinder.operators import ADD, CONSTANT, MUL, SIN, VARIABLE
    >>> to_sympy([VARIABLE, CONSTANT, MUL, VARIABLE, SIN, ADD],
    ...          [0, 0, 0, 1, 0, 0], [2.537])
    2.537*x0 + sin(x1)
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
    constant_errors: Sequence[float] | None = None,
) -> str:
    r"""Print a program as LaTeX, through sympy's printer or with uncertainties.

    sympy orders terms and factors its own way and merges numbers, so the
    LaTeX shows the same function as the program in a conventional form.
    With ``constant_errors`` the LaTeX instead follows the program's tree, as
    :func:`to_text` does, each constant with its error: ``1.086(11)``.

    Parameters
    ----------
    opcodes, arguments : sequence of int
        The program, in postfix order.
    constants : sequence of float
        Values of the constant slots.
    variable_names : sequence of str, optional
        Name of each feature; ``x0, x1, ...`` when None.
    precision : int, optional
        Significant digits of each constant; all of them when None. With
        ``constant_errors``, only of constants whose error is unknown or zero.
    constant_errors : sequence of float, optional
        Standard error of each constant slot, printed as
        :func:`format_uncertainty` does.

    Returns
    -------
    str
        LaTeX source, without surrounding dollar signs.

    Examples
    --------
    >>> from lawfinder.operators import CONSTANT, DIV, SQRT, VARIABLE
    >>> print(to_latex([VARIABLE, SQRT, CONSTANT, DIV], [0, 0, 0, 0], [2.0]))
    \frac{\sqrt{x_{0}}}{2}
    >>> print(to_latex([VARIABLE, SQRT, CONSTANT, DIV], [0, 0, 0, 0], [2.0],
    ...                constant_errors=[0.013]))
    \frac{\sqrt{x_{0}}}{2.000(13)}
    """
    if constant_errors is None:
        expression = to_sympy(
            opcodes, arguments, constants, variable_names, precision=precision
        )
        return sympy.latex(expression)

    _check_precision(precision)
    names = _names_for(variable_names, opcodes, arguments)
    symbols = _checked_lookup(
        [sympy.latex(make_symbol(name)) for name in names], "feature"
    )
    values = _checked_lookup(constants, "constant")
    errors = _error_lookup(constants, constant_errors)

    def constant(slot: int) -> _Piece:
        value = float(values(slot))
        text = format_uncertainty(value, errors(slot), precision, latex=True)
        # "1.2(3) \times 10^{-4}" is a product; keep it whole beside others.
        precedence = MUL_PRECEDENCE if r"\times" in text else _ATOM_PRECEDENCE
        if _is_negative(value):
            precedence = min(precedence, UNARY_MINUS_PRECEDENCE)
        return _Piece(text, precedence, signed=_is_negative(value), number=True)

    root = fold_program(
        opcodes,
        arguments,
        lambda index: _Piece(symbols(index), _ATOM_PRECEDENCE),
        constant,
        _print_latex_operator,
    )
    return root.text


def _latex_parenthesise(piece: _Piece) -> str:
    return rf"\left({piece.text}\right)"


def _print_latex_operator(operator: Operator, operands: list[_Piece]) -> _Piece:
    """LaTeX of one operator from the operator table, operands parenthesised."""
    name = operator.name
    if name == "neg":
        (operand,) = operands
        needs = operand.precedence <= ADD_PRECEDENCE or operand.signed
        text = _latex_parenthesise(operand) if needs else operand.text
        return _Piece(f"-{text}", UNARY_MINUS_PRECEDENCE, signed=True)

    if name in _LATEX_POWERS:
        # A superscript on a number would read as part of its error: 2.5(3)^{x}.
        base, *exponent = operands
        needs = base.precedence <= POW_PRECEDENCE or base.signed or base.number
        base_text = _latex_parenthesise(base) if needs else base.text
        texts = [base_text, *(piece.text for piece in exponent)]
        return _Piece(operator.latex(*texts), POW_PRECEDENCE)

    if operator.arity == 2 and name not in _LATEX_RAISED:
        texts = _operand_texts(operator, *operands, _latex_parenthesise)
        return _Piece(operator.latex(*texts), operator.precedence)

    precedence = POW_PRECEDENCE if name in _LATEX_RAISED else _ATOM_PRECEDENCE
    return _Piece(operator.latex(*(piece.text for piece in operands)), precedence)
