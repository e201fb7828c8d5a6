"""Read programs from infix text and from sympy expressions.

Text goes through a small tokenizer and a precedence-climbing parser; the
input is never handed to ``eval`` or to sympy's string parser, so reading a
formula cannot run code.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import sympy

from .operators import (
    ALIASES,
    CONSTANT,
    OPERATORS,
    VARIABLE,
    Operator,
    resolve_operator,
)
from .printing import RIGHT_ASSOCIATIVE, UNARY_MINUS_PRECEDENCE

Program = tuple[np.ndarray, np.ndarray, np.ndarray]

# Named numbers a formula may use, unless a variable has the same name.
NAMED_CONSTANTS = {"pi": math.pi, "inf": math.inf, "nan": math.nan}

_INFIX = {
    op.text: op
    for op in OPERATORS.values()
    if op.arity == 2 and not op.text.isidentifier()
}
_INFIX.update(
    {
        alias: OPERATORS[name]
        for alias, name in ALIASES.items()
        if not alias.isidentifier() and OPERATORS[name].arity == 2
    }
)
_FUNCTION_NAMES = sorted(
    {name for name in OPERATORS if name.isidentifier()}
    | {alias for alias in ALIASES if alias.isidentifier()}
)

_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[^\W\d]\w*")
_SYMBOL = re.compile(
    "|".join(re.escape(s) for s in sorted({*_INFIX, "(", ")", ","}, key=len)[::-1])
)
_DEFAULT_NAME = re.compile(r"x(0|[1-9]\d*)")


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "symbol" or "end"
    text: str
    column: int  # 0-based position in the text

    def describe(self) -> str:
        if self.kind == "end":
            return "end of text"
        return repr(self.text)


@dataclass
class _ProgramBuilder:
    """Postfix arrays grown node by node; constant slots follow their order."""

    opcodes: list[int] = field(default_factory=list)
    arguments: list[int] = field(default_factory=list)
    constants: list[float] = field(default_factory=list)

    def variable(self, index: int) -> None:
        self.opcodes.append(VARIABLE)
        self.arguments.append(index)

    def constant(self, value: float) -> None:
        self.opcodes.append(CONSTANT)
        self.arguments.append(len(self.constants))
        self.constants.append(float(value))

    def operator(self, operator: Operator) -> None:
        self.opcodes.append(operator.opcode)
        self.arguments.append(0)

    def program(self) -> Program:
        return (
            np.array(self.opcodes, dtype=np.int64),
            np.array(self.arguments, dtype=np.int64),
            np.array(self.constants, dtype=np.float64),
        )


def check_variable_names(variable_names: Sequence[str] | None) -> None:
    """Raise unless the names are unique non-empty strings (or None)."""
    if variable_names is None:
        return
    if isinstance(variable_names, str):
        raise TypeError(
            f"variable_names must be a sequence of names, not the string "
            f"{variable_names!r}"
        )
    variable_names = list(variable_names)
    for name in variable_names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"variable names must be non-empty strings, got {name!r}")
    if len(set(variable_names)) != len(variable_names):
        duplicates = sorted({n for n in variable_names if variable_names.count(n) > 1})
        raise ValueError(f"variable names must be unique; repeated: {duplicates}")


class _Parser:
    """Precedence climbing over the tokens of one formula."""

    def __init__(self, text: str, variable_names: Sequence[str] | None) -> None:
        self.text = text
        self.variable_names = None if variable_names is None else list(variable_names)
        self.variable_index = {name: i for i, name in enumerate(variable_names or ())}
        # Names that are not plain identifiers ("m.1", "E kin") are matched
        # verbatim, longest first, so the tokenizer does not split them.
        self.verbatim_names = sorted(
            (n for n in self.variable_index if not n.isidentifier()), key=len
        )[::-1]
        self.tokens = self._tokenize()
        self.position = 0
        self.builder = _ProgramBuilder()

    # Errors -----------------------------------------------------------------

    def error(self, message: str, column: int, hint: str = "") -> ValueError:
        where = f'{message} at column {column + 1} in "{self.text}"'
        return ValueError(f"{where}; {hint}" if hint else where)

    def unexpected(self, token: _Token) -> ValueError:
        return self.error(f"unexpected {token.describe()}", token.column)

    # Tokens -----------------------------------------------------------------

    def _tokenize(self) -> list[_Token]:
        tokens = []
        column = 0
        while column < len(self.text):
            if self.text[column].isspace():
                column += 1
                continue
            token = self._next_token(column)
            tokens.append(token)
            column += len(token.text)
        tokens.append(_Token("end", "", len(self.text)))
        return tokens

    def _next_token(self, column: int) -> _Token:
        candidates = []
        for kind, pattern in (
            ("number", _NUMBER),
            ("name", _NAME),
            ("symbol", _SYMBOL),
        ):
            match = pattern.match(self.text, column)
            if match:
                candidates.append(_Token(kind, match.group(), column))
        for name in self.verbatim_names:
            if self.text.startswith(name, column):
                candidates.append(_Token("name", name, column))
                break
        if not candidates:
            raise self.error(f"unexpected character {self.text[column]!r}", column)
        # Listed variable names come last, so they win ties of equal length.
        return max(reversed(candidates), key=lambda token: len(token.text))

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.peek()
        if token.kind != "symbol" or token.text != text:
            raise self.error(
                f"expected {text!r} but found {token.describe()}", token.column
            )
        return self.advance()

    # Grammar ----------------------------------------------------------------

    def parse(self) -> Program:
        if self.peek().kind == "end":
            raise ValueError(f'empty expression: "{self.text}"')
        self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        return self.builder.program()

    def expression(self, minimum_precedence: float) -> None:
        """Parse operands joined by infix operators binding at least this tightly."""
        self.prefix()
        while True:
            token = self.peek()
            operator = _INFIX.get(token.text) if token.kind == "symbol" else None
            if operator is None or operator.precedence < minimum_precedence:
                return
            self.advance()
            if operator.name in RIGHT_ASSOCIATIVE:
                self.expression(operator.precedence)
            else:
                self.expression(operator.precedence + 1)
            self.builder.operator(operator)

    def prefix(self) -> None:
        token = self.peek()
        if token.kind == "symbol" and token.text in ("-", "+"):
            self.advance()
            self.signed_operand(negative=token.text == "-")
        elif token.kind == "number":
            self.advance()
            self.builder.constant(float(token.text))
        elif token.kind == "name":
            self.name()
        elif token.kind == "symbol" and token.text == "(":
            self.advance()
            self.expression(0)
            self.expect(")")
        else:
            raise self.unexpected(token)

    def signed_operand(self, negative: bool) -> None:
        literal = self.peek().kind == "number" or self.peek().text in NAMED_CONSTANTS
        start = len(self.builder.opcodes)
        self.expression(UNARY_MINUS_PRECEDENCE)
        if not negative:
            return
        # "-2.5" is one negative constant; a minus on anything else, even
        # "(2.5)", is the neg operator.
        nodes = self.builder.opcodes[start:]
        if literal and nodes == [CONSTANT]:
            self.builder.constants[-1] = -self.builder.constants[-1]
        else:
            self.builder.operator(OPERATORS["neg"])

    def name(self) -> None:
        token = self.advance()
        following = self.peek()
        if following.kind == "symbol" and following.text == "(":
            self.call(token)
            return

        index = self.lookup_variable(token.text)
        if index is not None:
            self.builder.variable(index)
        elif token.text in NAMED_CONSTANTS:
            self.builder.constant(NAMED_CONSTANTS[token.text])
        elif token.text.lower() in _FUNCTION_NAMES:
            raise self.error(
                f"function {token.text!r} needs its arguments in parentheses",
                token.column,
            )
        else:
            raise self.error(
                f"unknown variable {token.text!r}",
                token.column,
                self.allowed_variables(),
            )

    def lookup_variable(self, name: str) -> int | None:
        if self.variable_names is not None:
            return self.variable_index.get(name)
        match = _DEFAULT_NAME.fullmatch(name)
        return int(match.group(1)) if match else None

    def allowed_variables(self) -> str:
        if self.variable_names is None:
            return "allowed variables: x0, x1, x2, ... (no variable_names given)"
        if not self.variable_names:
            return "no variables are allowed (variable_names is empty)"
        return "allowed variables: " + ", ".join(self.variable_names)

    def call(self, name: _Token) -> None:
        if name.text.lower() not in _FUNCTION_NAMES:
            raise self.error(
                f"unknown function {name.text!r}",
                name.column,
                "allowed functions: " + ", ".join(_FUNCTION_NAMES),
            )
        operator = resolve_operator(name.text)

        self.expect("(")
        n_arguments = 0
        if not (self.peek().kind == "symbol" and self.peek().text == ")"):
            self.expression(0)
            n_arguments += 1
            while self.peek().kind == "symbol" and self.peek().text == ",":
                self.advance()
                self.expression(0)
                n_arguments += 1
        self.expect(")")

        if n_arguments != operator.arity:
            plural = "argument" if operator.arity == 1 else "arguments"
            raise self.error(
                f"function {name.text!r} takes {operator.arity} {plural} but got "
                f"{n_arguments}",
                name.column,
            )
        self.builder.operator(operator)


def parse(text: str, variable_names: Sequence[str] | None = None) -> Program:
    """Read a formula written in infix text into a postfix program.

    The grammar has numbers (``3``, ``2.5``, ``1e-3``), variables, the named
    constants ``pi``, ``inf`` and ``nan``, the infix operators ``+ - * / ^``
    (``**`` is ``^``, which is right-associative), unary minus and plus,
    parentheses, and calls of any operator by name or alias (``sqrt(x)``,
    ``ln(x)``, ``pow(a, b)``). A minus directly before a number makes a
    negative constant; before anything else it makes the ``neg`` operator.

    Parameters
    ----------
    text : str
        The formula.
    variable_names : sequence of str, optional
        Allowed variable names; the index of a name is its feature index. When
        None, variables are ``x0, x1, ...`` and ``xN`` is feature ``N``.

    Returns
    -------
    opcodes : numpy.ndarray of int64
    arguments : numpy.ndarray of int64
    constants : numpy.ndarray of float64
        The program, constant slots numbered in order of appearance.

    Raises
    ------
    ValueError
        If the text does not follow the grammar, uses an unknown variable or
        function, or calls a function with the wrong number of arguments. The
        message gives the column and the text, and lists the allowed names.

    Examples
    --------
    >>> opcodes, arguments, constants = parse("x * 2.5 + sin(y)", ["x", "y"])
    >>> arguments.tolist(), constants.tolist()
    ([0, 0, 0, 1, 0, 0], [2.5])
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    check_variable_names(variable_names)
    try:
        return _Parser(text, variable_names).parse()
    except RecursionError:
        raise ValueError(
            f"the expression nests too deeply to parse: {text[:60]!r}..."
        ) from None


def _is_number(expression) -> bool:
    return isinstance(expression, sympy.Number) and expression.is_finite is True


class _SympyWalker:
    """Emit the postfix program of a sympy expression, node by node."""

    def __init__(
        self,
        variable_names: Sequence[str],
        constant_values: Mapping[sympy.Symbol, float],
    ) -> None:
        self.variable_index = {name: i for i, name in enumerate(variable_names)}
        self.constant_values = {
            symbol.name: float(value) for symbol, value in constant_values.items()
        }
        self.builder = _ProgramBuilder()

    def has(self, name: str) -> bool:
        return name in OPERATORS

    def walk(self, expression: sympy.Expr) -> None:
        if isinstance(expression, sympy.Symbol):
            self.symbol(expression)
        elif not expression.free_symbols:
            self.number(expression)
        elif isinstance(expression, sympy.Add):
            self.add(expression)
        elif isinstance(expression, sympy.Mul):
            self.mul(expression)
        elif isinstance(expression, sympy.Pow):
            self.power(expression.base, expression.exp)
        elif isinstance(expression, sympy.Function):
            self.function(expression)
        else:
            raise ValueError(
                f"cannot convert {type(expression).__name__} {expression}; "
                "only sums, products, powers and the functions "
                f"{', '.join(_FUNCTION_NAMES)} are supported"
            )

    def symbol(self, symbol: sympy.Symbol) -> None:
        if symbol.name in self.variable_index:
            self.builder.variable(self.variable_index[symbol.name])
        elif symbol.name in self.constant_values:
            self.builder.constant(self.constant_values[symbol.name])
        else:
            allowed = ", ".join(self.variable_index) or "none"
            raise ValueError(
                f"unknown variable {symbol.name!r} in the sympy expression; "
                f"allowed variables: {allowed}"
            )

    def number(self, expression: sympy.Expr) -> None:
        try:
            value = float(expression)
        except TypeError:
            raise ValueError(
                f"the constant {expression} is not a real number"
            ) from None
        self.builder.constant(value)

    def add(self, expression: sympy.Add) -> None:
        terms = list(expression.as_ordered_terms())
        negative = [term.could_extract_minus_sign() for term in terms]
        # Lead with a positive term so that "y - x" is not "-x + y".
        lead = negative.index(False) if False in negative else 0
        self.walk(terms[lead])
        for position, term in enumerate(terms):
            if position == lead:
                continue
            if negative[position]:
                self.walk(-term)
                self.builder.operator(OPERATORS["sub"])
            else:
                self.walk(term)
                self.builder.operator(OPERATORS["add"])

    def mul(self, expression: sympy.Mul) -> None:
        coefficient, rest = expression.as_coeff_Mul()
        negative = coefficient < 0
        magnitude = abs(coefficient)
        numerator, denominator = [], []
        if magnitude.is_Rational:
            numerator.append(sympy.Integer(magnitude.p))
            denominator.append(sympy.Integer(magnitude.q))
        else:
            numerator.append(magnitude)
        for factor in rest.as_ordered_factors():
            if (
                isinstance(factor, sympy.Pow)
                and _is_number(factor.exp)
                and factor.exp < 0
            ):
                denominator.append(sympy.Pow(factor.base, -factor.exp))
            else:
                numerator.append(factor)
        numerator = [f for f in numerator if not (f.is_Number and float(f) == 1.0)]
        denominator = [f for f in denominator if not (f.is_Number and float(f) == 1.0)]

        # The sign goes into a leading number when there is one: "-2.5 * x".
        if negative and numerator and numerator[0].is_Number:
            numerator[0] = -numerator[0]
            negative = False
        if negative and not numerator:
            numerator = [sympy.Integer(-1)]
            negative = False

        if not numerator:
            self.reciprocal(denominator)
            return
        self.product(numerator)
        if negative:
            self.builder.operator(OPERATORS["neg"])
        if denominator:
            self.product(denominator)
            self.builder.operator(OPERATORS["div"])

    def product(self, factors: list[sympy.Expr]) -> None:
        """Chain factors left to right with mul."""
        for position, factor in enumerate(factors):
            self.walk(factor)
            if position > 0:
                self.builder.operator(OPERATORS["mul"])

    def reciprocal(self, factors: list[sympy.Expr]) -> None:
        if self.has("inv"):
            self.product(factors)
            self.builder.operator(OPERATORS["inv"])
        else:
            self.builder.constant(1.0)
            self.product(factors)
            self.builder.operator(OPERATORS["div"])

    def power(self, base: sympy.Expr, exponent: sympy.Expr) -> None:
        if _is_number(exponent) and exponent < 0:
            self.reciprocal([sympy.Pow(base, -exponent)])
            return
        # Float exponents count too: x ** 2.0 is x * x to the last bit.
        special = {2.0: "square", 3.0: "cube", 0.5: "sqrt"}
        name = special.get(float(exponent)) if _is_number(exponent) else None
        self.walk(base)
        if name is not None and self.has(name):
            self.builder.operator(OPERATORS[name])
        else:
            self.walk(exponent)
            self.builder.operator(OPERATORS["pow"])

    def function(self, expression: sympy.Function) -> None:
        name = type(expression).__name__
        key = ALIASES.get(name.lower(), name.lower())
        operator = OPERATORS.get(key)
        if operator is None or operator.arity != len(expression.args):
            raise ValueError(
                f"cannot convert the sympy function {name}; allowed functions: "
                + ", ".join(_FUNCTION_NAMES)
            )
        for argument in expression.args:
            self.walk(argument)
        self.builder.operator(operator)


def from_sympy(
    expression: sympy.Expr,
    variable_names: Sequence[str],
    constant_values: Mapping[sympy.Symbol, float] | None = None,
) -> Program:
    """Turn a sympy expression into a postfix program.

    Sums and products of many terms become chains of binary operators, with
    negative terms subtracted and negative powers moved into a denominator.
    Powers 2, 3, 1/2 and -1 become ``square``, ``cube``, ``sqrt`` and ``inv``;
    other powers become ``pow``. Any subexpression without symbols (``pi``,
    ``sqrt(2)``, ``3/4``) becomes one constant.

    Parameters
    ----------
    expression : sympy.Expr
        The expression, over symbols named as the variables.
    variable_names : sequence of str
        Feature names; a symbol matches the feature of the same name.
    constant_values : mapping of sympy.Symbol to float, optional
        Values of symbols that stand for constants, such as the mapping
        returned by ``to_sympy(..., constant_symbols=True)``.

    Returns
    -------
    opcodes : numpy.ndarray of int64
    arguments : numpy.ndarray of int64
    constants : numpy.ndarray of float64
        The program, constant slots numbered in order of appearance.

    Raises
    ------
    ValueError
        If the expression has a symbol that is neither a variable nor a
        constant, a function outside the operator table, or a complex number.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> opcodes, arguments, constants = from_sympy(x / 2 + sympy.sin(y), ["x", "y"])
    >>> constants.tolist()
    [2.0]
    """
    if not isinstance(expression, sympy.Basic):
        if isinstance(expression, (int, float)):
            expression = sympy.Float(expression)
        else:
            raise TypeError(
                f"expected a sympy expression, got {type(expression).__name__}"
            )
    if variable_names is None:
        raise TypeError("from_sympy needs variable_names to match symbols to features")
    check_variable_names(variable_names)
    walker = _SympyWalker(variable_names, constant_values or {})
    walker.walk(expression)
    return walker.builder.program()
