"""Hypothesis strategies for random programs, shared by the test modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import strategies as st

from lawfinder.operators import CONSTANT, OPERATORS, VARIABLE

# Simple values come first so that failures shrink towards them.
DEFAULT_CONSTANTS = st.one_of(
    st.sampled_from([1.0, 2.0, 0.5, -1.0, 0.0, 3.0]),
    st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False),
)


@st.composite
def programs(
    draw,
    n_features: int = 3,
    max_size: int = 25,
    operators: Sequence[str] | None = None,
    constants: st.SearchStrategy[float] = DEFAULT_CONSTANTS,
):
    """Random well-formed postfix programs with at most ``max_size`` nodes.

    Draws ``(opcodes, arguments, constants)``: int64, int64 and float64 arrays,
    constant slots numbered in order of appearance. ``operators`` names the
    operators to use (all of the table by default); ``constants`` draws the
    value of each constant. With ``n_features=0`` every leaf is a constant.
    """
    names = tuple(OPERATORS) if operators is None else tuple(operators)
    unary = [OPERATORS[name] for name in names if OPERATORS[name].arity == 1]
    binary = [OPERATORS[name] for name in names if OPERATORS[name].arity == 2]
    nodes: list[tuple[int, int]] = []
    values: list[float] = []

    def leaf() -> None:
        if n_features > 0 and draw(st.booleans()):
            nodes.append((VARIABLE, draw(st.integers(0, n_features - 1))))
        else:
            nodes.append((CONSTANT, len(values)))
            values.append(draw(constants))

    def subtree(size: int) -> int:
        """Append a subtree of at most ``size`` nodes; return how many it has."""
        kinds = ["leaf"]
        if unary and size >= 2:
            kinds = ["unary"]
        if binary and size >= 3:
            kinds = ["unary", "binary"] if unary else ["binary"]
        kind = draw(st.sampled_from(kinds))
        if kind == "leaf":
            leaf()
            return 1
        if kind == "unary":
            used = subtree(size - 1)
            nodes.append((draw(st.sampled_from(unary)).opcode, 0))
            return used + 1
        used = subtree(draw(st.integers(1, size - 2)))
        used += subtree(size - 1 - used)
        nodes.append((draw(st.sampled_from(binary)).opcode, 0))
        return used + 1

    subtree(draw(st.integers(1, max_size)))
    opcodes = np.array([opcode for opcode, _ in nodes], dtype=np.int64)
    arguments = np.array([argument for _, argument in nodes], dtype=np.int64)
    return opcodes, arguments, np.array(values, dtype=np.float64)


def program(*nodes):
    """Postfix program from nodes: "x<i>" variables, floats, operator names."""
    opcodes, arguments, constants = [], [], []
    for node in nodes:
        if isinstance(node, float):
            opcodes.append(CONSTANT)
            arguments.append(len(constants))
            constants.append(node)
        elif node.startswith("x") and node[1:].isdigit():
            opcodes.append(VARIABLE)
            arguments.append(int(node[1:]))
        else:
            opcodes.append(OPERATORS[node].opcode)
            arguments.append(0)
    return (
        np.array(opcodes, dtype=np.int64),
        np.array(arguments, dtype=np.int64),
        np.array(constants, dtype=np.float64),
    )
