"""The operator table: the single source of truth for every operator.

Each entry gives an operator's name, arity, default complexity, numeric
definition (numpy, used by references and Python-side evaluation), and how it
prints to text, sympy and LaTeX, and how it treats units. The numba kernels
dispatch on the opcode numbers defined here; a test checks that every kernel
agrees with the numpy definition of every operator in this table.

Programs are postfix arrays: ``opcodes[i]`` is one of the opcodes below and
``arguments[i]`` is the feature index of a ``VARIABLE`` node, the constant slot
of a ``CONSTANT`` node, and 0 otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

VARIABLE = 0
CONSTANT = 1
ADD = 2
SUB = 3
MUL = 4
DIV = 5
POW = 6
NEG = 7
SQUARE = 8
CUBE = 9
SQRT = 10
EXP = 11
LOG = 12
SIN = 13
COS = 14
TAN = 15
TANH = 16
ABS = 17
INV = 18

N_OPCODES = 19


@dataclass(frozen=True)
class Operator:
    """One operator of the table.

    ``text`` is the infix symbol of a binary operator or the function name of a
    unary one; ``precedence`` orders binary operators when printing and
    parsing. ``units`` names the rule the units check applies: ``"same"``
    (operands share units), ``"product"``, ``"quotient"``, ``"power"`` (the
    exponent must be a dimensionless number), ``"scale"`` (units raised to
    ``units_power``), ``"keep"`` (units unchanged) or ``"dimensionless"``
    (argument and result have no units).
    """

    name: str
    opcode: int
    arity: int
    numpy: Callable
    sympy: Callable
    latex: Callable[..., str]
    text: str
    complexity: int = 1
    precedence: int = 0
    units: str = "keep"
    units_power: float = 1.0


def _latex_fraction(a: str, b: str) -> str:
    return rf"\frac{{{a}}}{{{b}}}"


def _with_errors_ignored(function: Callable) -> Callable:
    """Wrap a numpy function so invalid domains give nan/inf without warnings."""

    def wrapped(*operands):
        with np.errstate(all="ignore"):
            return function(*operands)

    wrapped.__name__ = getattr(function, "__name__", "operator")
    return wrapped


_TABLE = [
    Operator(
        "add",
        ADD,
        2,
        np.add,
        lambda a, b: a + b,
        lambda a, b: f"{a} + {b}",
        "+",
        precedence=1,
        units="same",
    ),
    Operator(
        "sub",
        SUB,
        2,
        np.subtract,
        lambda a, b: a - b,
        lambda a, b: f"{a} - {b}",
        "-",
        precedence=1,
        units="same",
    ),
    Operator(
        "mul",
        MUL,
        2,
        np.multiply,
        lambda a, b: a * b,
        lambda a, b: rf"{a} \cdot {b}",
        "*",
        precedence=2,
        units="product",
    ),
    Operator(
        "div",
        DIV,
        2,
        np.divide,
        lambda a, b: a / b,
        _latex_fraction,
        "/",
        precedence=2,
        units="quotient",
    ),
    Operator(
        "pow",
        POW,
        2,
        np.power,
        lambda a, b: a**b,
        lambda a, b: f"{{{a}}}^{{{b}}}",
        "^",
        precedence=4,
        units="power",
    ),
    Operator(
        "neg", NEG, 1, np.negative, lambda a: -a, lambda a: f"-{a}", "neg", units="keep"
    ),
    Operator(
        "square",
        SQUARE,
        1,
        np.square,
        lambda a: a**2,
        lambda a: f"{{{a}}}^{{2}}",
        "square",
        units="scale",
        units_power=2.0,
    ),
    Operator(
        "cube",
        CUBE,
        1,
        lambda a: a * a * a,
        lambda a: a**3,
        lambda a: f"{{{a}}}^{{3}}",
        "cube",
        units="scale",
        units_power=3.0,
    ),
    Operator(
        "sqrt",
        SQRT,
        1,
        np.sqrt,
        sympy.sqrt,
        lambda a: rf"\sqrt{{{a}}}",
        "sqrt",
        units="scale",
        units_power=0.5,
    ),
    Operator(
        "exp",
        EXP,
        1,
        np.exp,
        sympy.exp,
        lambda a: rf"e^{{{a}}}",
        "exp",
        units="dimensionless",
    ),
    Operator(
        "log",
        LOG,
        1,
        np.log,
        sympy.log,
        lambda a: rf"\log{{\left({a} \right)}}",
        "log",
        units="dimensionless",
    ),
    Operator(
        "sin",
        SIN,
        1,
        np.sin,
        sympy.sin,
        lambda a: rf"\sin{{\left({a} \right)}}",
        "sin",
        units="dimensionless",
    ),
    Operator(
        "cos",
        COS,
        1,
        np.cos,
        sympy.cos,
        lambda a: rf"\cos{{\left({a} \right)}}",
        "cos",
        units="dimensionless",
    ),
    Operator(
        "tan",
        TAN,
        1,
        np.tan,
        sympy.tan,
        lambda a: rf"\tan{{\left({a} \right)}}",
        "tan",
        units="dimensionless",
    ),
    Operator(
        "tanh",
        TANH,
        1,
        np.tanh,
        sympy.tanh,
        lambda a: rf"\tanh{{\left({a} \right)}}",
        "tanh",
        units="dimensionless",
    ),
    Operator(
        "abs",
        ABS,
        1,
        np.abs,
        sympy.Abs,
        lambda a: rf"\left|{a}\right|",
        "abs",
        units="keep",
    ),
    Operator(
        "inv",
        INV,
        1,
        lambda a: 1.0 / a,
        lambda a: 1 / a,
        lambda a: _latex_fraction("1", a),
        "inv",
        units="scale",
        units_power=-1.0,
    ),
]

OPERATORS: dict[str, Operator] = {
    op.name: Operator(**{**op.__dict__, "numpy": _with_errors_ignored(op.numpy)})
    for op in _TABLE
}
BY_OPCODE: dict[int, Operator] = {op.opcode: op for op in OPERATORS.values()}

BINARY_OPERATORS = tuple(name for name, op in OPERATORS.items() if op.arity == 2)
UNARY_OPERATORS = tuple(name for name, op in OPERATORS.items() if op.arity == 1)

# Aliases accepted wherever users name operators.
ALIASES = {
    "+": "add",
    "-": "sub",
    "*": "mul",
    "/": "div",
    "^": "pow",
    "**": "pow",
    "plus": "add",
    "minus": "sub",
    "times": "mul",
    "divide": "div",
    "ln": "log",
    "negative": "neg",
    "reciprocal": "inv",
}


def resolve_operator(name: str, arity: int | None = None) -> Operator:
    """Return the operator called ``name`` (or an alias), checking its arity."""
    if not isinstance(name, str):
        raise TypeError(f"operator names must be strings, got {name!r}")
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    operator = OPERATORS.get(key)
    if operator is None:
        allowed = ", ".join(OPERATORS)
        raise ValueError(f"unknown operator {name!r}; allowed: {allowed}")
    if arity is not None and operator.arity != arity:
        kind = {1: "unary", 2: "binary"}[arity]
        names = ", ".join(n for n, op in OPERATORS.items() if op.arity == arity)
        raise ValueError(
            f"operator {name!r} is not {kind}; {kind} operators are: {names}"
        )
    return operator


def arity_of(opcode: int) -> int:
    """Arity of an opcode: 0 for leaves."""
    if opcode in (VARIABLE, CONSTANT):
        return 0
    return BY_OPCODE[opcode].arity


ARITY = np.array([arity_of(code) for code in range(N_OPCODES)], dtype=np.int64)
