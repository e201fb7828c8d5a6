"""Random programs, mutations and crossover against plain-Python references.

Every child must be a well-formed postfix program with its constant slots in
order, fit its buffer without writing past it, and be the splice that its
variation promises: each check below rebuilds the allowed children from the
parent's node list and looks the kernel's child up among them.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lawfinder.kernels.evaluate import evaluate_program
from lawfinder.kernels.random import new_state
from lawfinder.kernels.variation import (
    ADD_NODE,
    DELETE_NODE,
    INSERT_NODE,
    MUTATE_CONSTANT,
    MUTATE_LEAF,
    MUTATE_OPERATOR,
    N_MUTATIONS,
    RANDOMIZE,
    REPLACE_SUBTREE,
    ROTATE,
    SIMPLIFY,
    SWAP_OPERANDS,
    crossover,
    has_nesting,
    mutate,
    program_depth,
    random_program,
    simplify,
    subtree_start,
)
from lawfinder.operators import ARITY, CONSTANT, N_OPCODES, OPERATORS, VARIABLE
from reference import evaluate_reference, nesting_reference
from strategies import program, programs

N_FEATURES = 3
CAPACITY = 30
MAXSIZE = 30
SENTINEL = -77
BINARY_OPS = np.array(
    [op.opcode for op in OPERATORS.values() if op.arity == 2], dtype=np.int64
)
UNARY_OPS = np.array(
    [op.opcode for op in OPERATORS.values() if op.arity == 1], dtype=np.int64
)
NO_OPS = np.empty(0, dtype=np.int64)
XT = np.ascontiguousarray(
    np.random.default_rng(0).uniform(-2.0, 2.0, size=(N_FEATURES, 16))
)


# ---------------------------------------------------------------------------
# Plain-Python references
# ---------------------------------------------------------------------------


def assert_valid_program(opcodes, arguments, constants, length, n_features=N_FEATURES):
    """Postfix well-formed, slots numbered in order and inside ``constants``."""
    assert 1 <= length <= opcodes.shape[0]
    height = 0
    next_slot = 0
    for k in range(length):
        op = int(opcodes[k])
        assert 0 <= op < N_OPCODES
        arity = int(ARITY[op])
        assert height >= arity, f"stack underflow at node {k}"
        height += 1 - arity
        if op == VARIABLE:
            assert 0 <= arguments[k] < n_features
        elif op == CONSTANT:
            assert arguments[k] == next_slot
            next_slot += 1
    assert height == 1
    assert next_slot <= constants.shape[0]


def nodes_of(opcodes, arguments, constants, length=None):
    """Nodes as tuples, constants by value, so renumbered slots compare equal."""
    length = opcodes.shape[0] if length is None else length
    nodes = []
    for k in range(length):
        op = int(opcodes[k])
        if op == VARIABLE:
            nodes.append((op, int(arguments[k]), 0.0))
        elif op == CONSTANT:
            nodes.append((op, 0, float(constants[arguments[k]])))
        else:
            nodes.append((op, 0, 0.0))
    return nodes


def subtree_starts(nodes):
    """Start of every node's subtree, from a stack of starts."""
    starts = []
    stack = []
    for k, (op, _, _) in enumerate(nodes):
        arity = int(ARITY[op])
        start = k if arity == 0 else stack[-arity]
        del stack[len(stack) - arity :]
        stack.append(start)
        starts.append(start)
    return starts


def depth_reference(nodes, end=None):
    """Depth of the subtree rooted at ``end``, by recursion over operands."""

    def walk(end):
        arity = int(ARITY[nodes[end][0]])
        if arity == 0:
            return 1, end
        right_depth, right_start = walk(end - 1)
        if arity == 1:
            return right_depth + 1, right_start
        left_depth, left_start = walk(right_start - 1)
        return max(left_depth, right_depth) + 1, left_start

    return walk(len(nodes) - 1 if end is None else end)[0]


def is_leaf(node):
    return node[0] in (VARIABLE, CONSTANT)


def operand_spans(nodes, k, starts):
    """(start, stop) of each operand of operator ``k``, left to right."""
    if ARITY[nodes[k][0]] == 1:
        return [(starts[k], k)]
    right = starts[k - 1]
    return [(starts[k], right), (right, k)]


def is_splice(parent, child, k, starts, middle_ok):
    """Is ``child`` the parent with the subtree at ``k`` replaced by an allowed
    middle? ``middle_ok(subtree, middle)`` decides what is allowed."""
    prefix, subtree, suffix = (
        parent[: starts[k]],
        parent[starts[k] : k + 1],
        parent[k + 1 :],
    )
    if len(child) < len(prefix) + len(suffix):
        return False
    if child[: len(prefix)] != prefix or child[len(child) - len(suffix) :] != suffix:
        return False
    return middle_ok(subtree, child[len(prefix) : len(child) - len(suffix)])


def is_wrapping(subtree, middle):
    """A new unary operator above the subtree, or a binary one with a new leaf."""
    n = len(subtree)
    if len(middle) == n + 1:
        return middle[:n] == subtree and ARITY[middle[-1][0]] == 1
    if len(middle) != n + 2 or ARITY[middle[-1][0]] != 2:
        return False
    return (middle[:n] == subtree and is_leaf(middle[n])) or (
        is_leaf(middle[0]) and middle[1 : n + 1] == subtree
    )


def is_valid_node_list(nodes):
    height = 0
    for op, _, _ in nodes:
        arity = int(ARITY[op])
        if height < arity:
            return False
        height += 1 - arity
    return height == 1


# ---------------------------------------------------------------------------
# Buffers
# ---------------------------------------------------------------------------


class Buffers:
    """A program buffer of ``capacity`` nodes with a fenced tail.

    The kernels run without bounds checks, so a write past the end would go
    unnoticed; the views end where a sentinel-filled fence begins.
    """

    def __init__(self, capacity=CAPACITY):
        self.capacity = capacity
        self._o = np.full(capacity + 4, SENTINEL, dtype=np.int64)
        self._a = np.full(capacity + 4, SENTINEL, dtype=np.int64)
        self._c = np.full(capacity + 4, float(SENTINEL))
        self.opcodes = self._o[:capacity]
        self.arguments = self._a[:capacity]
        self.constants = self._c[:capacity]

    def load(self, opcodes, arguments, constants):
        self.opcodes[: opcodes.shape[0]] = opcodes
        self.arguments[: arguments.shape[0]] = arguments
        self.constants[: constants.shape[0]] = constants
        return opcodes.shape[0]

    def assert_fence_intact(self):
        assert np.all(self._o[self.capacity :] == SENTINEL)
        assert np.all(self._a[self.capacity :] == SENTINEL)
        assert np.all(self._c[self.capacity :] == SENTINEL)

    def nodes(self, length):
        return nodes_of(self.opcodes, self.arguments, self.constants, length)


def run_mutation(kind, program, seed, capacity=CAPACITY, unary_ops=UNARY_OPS):
    """Apply mutation ``kind``; returns (parent nodes, child length, child)."""
    parent = Buffers(capacity)
    length = parent.load(*program)
    child = Buffers(capacity)
    state = new_state(np.random.default_rng(seed))
    child_length = mutate(
        state, kind, 0.5, N_FEATURES, BINARY_OPS, unary_ops,
        parent.opcodes, parent.arguments, parent.constants, length,
        child.opcodes, child.arguments, child.constants, MAXSIZE,
    )  # fmt: skip
    parent.assert_fence_intact()
    child.assert_fence_intact()
    return parent.nodes(length), int(child_length), child


# ---------------------------------------------------------------------------
# Structure of programs
# ---------------------------------------------------------------------------


@given(programs(n_features=N_FEATURES, max_size=25))
def test_subtree_start_matches_reference(program):
    opcodes, arguments, constants = program
    expected = subtree_starts(nodes_of(opcodes, arguments, constants))
    assert [subtree_start(opcodes, end) for end in range(opcodes.shape[0])] == expected


@given(programs(n_features=N_FEATURES, max_size=25))
def test_program_depth_matches_recursive_reference(program):
    opcodes, arguments, constants = program
    nodes = nodes_of(opcodes, arguments, constants)
    assert program_depth(opcodes, opcodes.shape[0]) == depth_reference(nodes)


def test_program_depth_of_simple_programs():
    leaf = np.array([VARIABLE])
    chain = np.array([VARIABLE, OPERATORS["sin"].opcode, OPERATORS["exp"].opcode])
    balanced = np.array([VARIABLE, VARIABLE, OPERATORS["add"].opcode])
    assert program_depth(leaf, 1) == 1
    assert program_depth(chain, 3) == 3
    assert program_depth(balanced, 3) == 2


# Flags of the functions of a dimensionless argument, the search's default.
DIMENSIONLESS = np.zeros(N_OPCODES, dtype=np.int64)
for _operator in OPERATORS.values():
    DIMENSIONLESS[_operator.opcode] = _operator.units == "dimensionless"


@given(programs(n_features=N_FEATURES, max_size=25))
def test_has_nesting_matches_recursive_reference(program):
    opcodes, arguments, constants = program
    nodes = nodes_of(opcodes, arguments, constants)
    expected = nesting_reference([node[0] for node in nodes], DIMENSIONLESS)
    assert has_nesting(opcodes, opcodes.shape[0], DIMENSIONLESS) == expected


def test_has_nesting_of_simple_programs():
    sin_of_exp, _, _ = program("x0", "exp", "x1", "add", "sin")
    side_by_side, _, _ = program("x0", "exp", "x1", "sin", "mul")
    exp_of_square, _, _ = program("x0", "square", "neg", "exp")
    assert has_nesting(sin_of_exp, 5, DIMENSIONLESS)
    assert not has_nesting(side_by_side, 5, DIMENSIONLESS)
    assert not has_nesting(exp_of_square, 4, DIMENSIONLESS)
    assert not has_nesting(sin_of_exp, 5, np.zeros(N_OPCODES, dtype=np.int64))


@pytest.mark.parametrize("size", range(1, 26))
def test_random_program_has_exactly_the_requested_size(size):
    for seed in range(20):
        buffers = Buffers()
        state = new_state(np.random.default_rng(seed))
        length, n_constants = random_program(
            state, size, N_FEATURES, BINARY_OPS, UNARY_OPS,
            buffers.opcodes, buffers.arguments, buffers.constants, 0, 0,
        )  # fmt: skip
        assert length == size
        assert_valid_program(
            buffers.opcodes, buffers.arguments, buffers.constants, size
        )
        assert n_constants == np.sum(buffers.opcodes[:size] == CONSTANT)
        buffers.assert_fence_intact()


@pytest.mark.parametrize("size", range(1, 16))
def test_random_program_without_unary_operators(size):
    # Binary trees have an odd number of nodes: an even size comes out one less.
    expected = size if size % 2 else size - 1
    for seed in range(10):
        buffers = Buffers()
        state = new_state(np.random.default_rng(seed))
        length, _ = random_program(
            state, size, N_FEATURES, BINARY_OPS, NO_OPS,
            buffers.opcodes, buffers.arguments, buffers.constants, 0, 0,
        )  # fmt: skip
        assert length == expected
        assert_valid_program(
            buffers.opcodes, buffers.arguments, buffers.constants, expected
        )
        assert not np.isin(buffers.opcodes[:expected], UNARY_OPS).any()


def test_random_program_without_features_uses_constants_only():
    buffers = Buffers()
    state = new_state(np.random.default_rng(1))
    length, n_constants = random_program(
        state, 9, 0, BINARY_OPS, UNARY_OPS,
        buffers.opcodes, buffers.arguments, buffers.constants, 0, 0,
    )  # fmt: skip
    assert length == 9
    assert not np.any(buffers.opcodes[:length] == VARIABLE)
    assert n_constants >= 1
    assert_valid_program(buffers.opcodes, buffers.arguments, buffers.constants, 9, 0)


def test_random_program_reports_a_buffer_too_small():
    buffers = Buffers(capacity=5)
    state = new_state(np.random.default_rng(2))
    length, _ = random_program(
        state, 9, N_FEATURES, BINARY_OPS, UNARY_OPS,
        buffers.opcodes, buffers.arguments, buffers.constants, 0, 0,
    )  # fmt: skip
    assert length == -1
    buffers.assert_fence_intact()


# ---------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------


def check_child(kind, parent, child_length, child):
    """Assert that the child is what mutation ``kind`` may make of ``parent``."""
    starts = subtree_starts(parent)
    operators = [k for k, node in enumerate(parent) if not is_leaf(node)]
    if child_length == -1:
        # Only mutations that need a missing kind of node may give up.
        assert kind in (
            MUTATE_CONSTANT,
            MUTATE_OPERATOR,
            SWAP_OPERANDS,
            DELETE_NODE,
            ROTATE,
        )
        if kind == MUTATE_CONSTANT:
            assert not any(node[0] == CONSTANT for node in parent)
        elif kind == ROTATE:
            assert not any(
                ARITY[parent[k][0]] == 2
                and (
                    ARITY[parent[k - 1][0]] == 2
                    or ARITY[parent[starts[k - 1] - 1][0]] == 2
                )
                for k in operators
            )
        elif kind == SWAP_OPERANDS:
            assert not any(ARITY[node[0]] == 2 for node in parent)
        else:
            assert not operators
        return
    assert_valid_program(child.opcodes, child.arguments, child.constants, child_length)
    nodes = child.nodes(child_length)

    if kind == MUTATE_CONSTANT:
        assert [node[:2] for node in nodes] == [node[:2] for node in parent]
        assert sum(a != b for a, b in zip(nodes, parent, strict=True)) <= 1
    elif kind == MUTATE_OPERATOR:
        changed = [k for k in range(len(parent)) if nodes[k] != parent[k]]
        assert len(nodes) == len(parent) and len(changed) <= 1
        assert all(ARITY[nodes[k][0]] == ARITY[parent[k][0]] > 0 for k in changed)
    elif kind == MUTATE_LEAF:
        changed = [k for k in range(len(parent)) if nodes[k] != parent[k]]
        assert len(nodes) == len(parent) and len(changed) <= 1
        assert all(is_leaf(nodes[k]) and is_leaf(parent[k]) for k in changed)
    elif kind == SWAP_OPERANDS:
        swaps = [
            parent[: starts[k]]
            + parent[starts[k - 1] : k]
            + parent[starts[k] : starts[k - 1]]
            + parent[k:]
            for k in operators
            if ARITY[parent[k][0]] == 2
        ]
        assert nodes in swaps
    elif kind in (ADD_NODE, INSERT_NODE):
        roots = range(len(parent))
        if kind == ADD_NODE:
            roots = [k for k in roots if is_leaf(parent[k])]
        assert any(is_splice(parent, nodes, k, starts, is_wrapping) for k in roots)
    elif kind == DELETE_NODE:

        def is_operand(k):
            spans = operand_spans(parent, k, starts)
            return lambda _, middle: any(middle == parent[a:b] for a, b in spans)

        assert any(
            is_splice(parent, nodes, k, starts, is_operand(k)) for k in operators
        )
    elif kind == REPLACE_SUBTREE:

        def is_small_program(_, middle):
            return 1 <= len(middle) <= 7 and is_valid_node_list(middle)

        assert any(
            is_splice(parent, nodes, k, starts, is_small_program)
            for k in range(len(parent))
        )
    elif kind == RANDOMIZE:
        assert child_length <= max(1, MAXSIZE // 3)
    elif kind == ROTATE:
        # The same nodes, regrouped.
        assert sorted(nodes) == sorted(parent) and nodes != parent


MUTATION_KINDS = [kind for kind in range(N_MUTATIONS) if kind != SIMPLIFY]


@settings(max_examples=150)
@given(
    programs(n_features=N_FEATURES, max_size=20),
    st.integers(0, 2**32 - 1),
)
def test_every_mutation_gives_a_valid_child_of_the_promised_shape(program, seed):
    for kind in MUTATION_KINDS:
        for offset in range(3):
            parent, child_length, child = run_mutation(kind, program, seed + offset)
            check_child(kind, parent, child_length, child)


def test_mutations_over_many_seeds_on_random_parents():
    # Parents made by the kernel itself, as in a search, over many seeds.
    for seed in range(60):
        state = new_state(np.random.default_rng(seed))
        buffers = Buffers()
        length, n_constants = random_program(
            state, 1 + seed % 19, N_FEATURES, BINARY_OPS, UNARY_OPS,
            buffers.opcodes, buffers.arguments, buffers.constants, 0, 0,
        )  # fmt: skip
        program = (
            buffers.opcodes[:length].copy(),
            buffers.arguments[:length].copy(),
            buffers.constants[:n_constants].copy(),
        )
        for kind in MUTATION_KINDS:
            parent, child_length, child = run_mutation(kind, program, 1000 + seed)
            check_child(kind, parent, child_length, child)


@settings(max_examples=60)
@given(programs(n_features=N_FEATURES, max_size=12), st.integers(0, 2**32 - 1))
def test_mutations_never_write_past_a_full_buffer(program, seed):
    # The parent fills its buffer: growing mutations must give up, not overflow.
    capacity = program[0].shape[0]
    for kind in range(N_MUTATIONS):
        parent, child_length, child = run_mutation(kind, program, seed, capacity)
        assert child_length <= capacity
        if kind in (ADD_NODE, INSERT_NODE):
            assert child_length == -1
        elif child_length > 0:
            assert_valid_program(
                child.opcodes, child.arguments, child.constants, child_length
            )


def test_mutate_operator_without_unary_operators_gives_up_on_unary_nodes():
    program = (
        np.array([VARIABLE, OPERATORS["sin"].opcode]),
        np.array([0, 0]),
        np.empty(0),
    )
    for seed in range(5):
        _, child_length, _ = run_mutation(
            MUTATE_OPERATOR, program, seed, unary_ops=NO_OPS
        )
        assert child_length == -1


# ---------------------------------------------------------------------------
# Constant folding
# ---------------------------------------------------------------------------


def foldable_operators(nodes):
    """Operators whose subtree holds constants and no variable."""
    starts = subtree_starts(nodes)
    return [
        k
        for k, node in enumerate(nodes)
        if not is_leaf(node)
        and all(nodes[m][0] != VARIABLE for m in range(starts[k], k + 1))
    ]


def run_simplify(program):
    parent = Buffers()
    length = parent.load(*program)
    child = Buffers()
    child_length = simplify(
        parent.opcodes, parent.arguments, parent.constants, length,
        child.opcodes, child.arguments, child.constants,
    )  # fmt: skip
    child.assert_fence_intact()
    return int(child_length), child


def _evaluate(opcodes, arguments, constants, length):
    out = np.empty(XT.shape[1])
    evaluate_program(opcodes, arguments, length, constants, XT, out)
    return out


@settings(max_examples=200)
@given(programs(n_features=N_FEATURES, max_size=20))
def test_simplify_folds_every_constant_subtree_and_keeps_the_value(program):
    opcodes, arguments, constants = program
    nodes = nodes_of(opcodes, arguments, constants)
    child_length, child = run_simplify(program)

    if not foldable_operators(nodes):
        assert child_length == -1
        return
    assert_valid_program(child.opcodes, child.arguments, child.constants, child_length)
    folded = child.nodes(child_length)
    assert not foldable_operators(folded)
    # Folding removes operators and constants only; the variables stay in order.
    variables = [node for node in nodes if node[0] == VARIABLE]
    assert [node for node in folded if node[0] == VARIABLE] == variables
    assert child_length == len(nodes) - sum(
        subtree_size for subtree_size in _maximal_constant_subtree_sizes(nodes)
    )

    X = XT.T
    expected = evaluate_reference(opcodes, arguments, constants, X)
    values = evaluate_reference(
        child.opcodes[:child_length], child.arguments[:child_length],
        child.constants, X,
    )  # fmt: skip
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(np.isfinite(values), finite)
    np.testing.assert_allclose(values[finite], expected[finite], rtol=1e-9, atol=1e-12)


def _maximal_constant_subtree_sizes(nodes):
    """Nodes that folding removes: each maximal constant-only subtree but one."""
    starts = subtree_starts(nodes)
    foldable = set(foldable_operators(nodes))
    sizes = []
    for k in sorted(foldable):
        inside_larger = any(
            starts[other] <= starts[k] and k < other for other in foldable
        )
        if not inside_larger:
            sizes.append(k - starts[k])
    return sizes


def test_simplify_folds_nested_constants_into_one():
    # x0 * (2 + 3) - sin(0.5): both constant parts fold, slots renumbered.
    add, mul, sub, sin = (OPERATORS[n].opcode for n in ("add", "mul", "sub", "sin"))
    program = (
        np.array([VARIABLE, CONSTANT, CONSTANT, add, mul, CONSTANT, sin, sub]),
        np.array([0, 0, 1, 0, 0, 2, 0, 0]),
        np.array([2.0, 3.0, 0.5]),
    )
    child_length, child = run_simplify(program)
    assert child_length == 5
    assert child.opcodes[:5].tolist() == [VARIABLE, CONSTANT, mul, CONSTANT, sub]
    assert child.arguments[:5].tolist() == [0, 0, 0, 1, 0]
    np.testing.assert_allclose(child.constants[:2], [5.0, np.sin(0.5)], rtol=1e-15)


# ---------------------------------------------------------------------------
# Crossover
# ---------------------------------------------------------------------------


def run_crossover(first, second, seed, capacity=CAPACITY):
    a, b, c, d = (Buffers(capacity) for _ in range(4))
    a_length = a.load(*first)
    b_length = b.load(*second)
    state = new_state(np.random.default_rng(seed))
    c_length, d_length = crossover(
        state,
        a.opcodes, a.arguments, a.constants, a_length,
        b.opcodes, b.arguments, b.constants, b_length,
        c.opcodes, c.arguments, c.constants,
        d.opcodes, d.arguments, d.constants,
    )  # fmt: skip
    for buffers in (a, b, c, d):
        buffers.assert_fence_intact()
    return a.nodes(a_length), b.nodes(b_length), (int(c_length), c), (int(d_length), d)


def is_exchange(a_nodes, b_nodes, c_nodes, d_nodes):
    """Are c and d the parents with one subtree of each exchanged?"""
    a_starts, b_starts = subtree_starts(a_nodes), subtree_starts(b_nodes)
    for ka in range(len(a_nodes)):
        a_sub = a_nodes[a_starts[ka] : ka + 1]
        for kb in range(len(b_nodes)):
            b_sub = b_nodes[b_starts[kb] : kb + 1]
            c = a_nodes[: a_starts[ka]] + b_sub + a_nodes[ka + 1 :]
            d = b_nodes[: b_starts[kb]] + a_sub + b_nodes[kb + 1 :]
            if c == c_nodes and d == d_nodes:
                return True
    return False


@settings(max_examples=150)
@given(
    programs(n_features=N_FEATURES, max_size=15),
    programs(n_features=N_FEATURES, max_size=15),
    st.integers(0, 2**32 - 1),
)
def test_crossover_children_are_valid_and_exchange_subtrees(first, second, seed):
    a_nodes, b_nodes, (c_length, c), (d_length, d) = run_crossover(first, second, seed)
    assert c_length > 0 and d_length > 0
    for length, child in ((c_length, c), (d_length, d)):
        assert_valid_program(child.opcodes, child.arguments, child.constants, length)
    c_nodes, d_nodes = c.nodes(c_length), d.nodes(d_length)
    assert Counter(c_nodes + d_nodes) == Counter(a_nodes + b_nodes)
    assert is_exchange(a_nodes, b_nodes, c_nodes, d_nodes)


@settings(max_examples=60)
@given(
    programs(n_features=N_FEATURES, max_size=12),
    programs(n_features=N_FEATURES, max_size=12),
    st.integers(0, 2**32 - 1),
)
def test_crossover_reports_children_that_do_not_fit(first, second, seed):
    capacity = max(first[0].shape[0], second[0].shape[0])
    _, _, (c_length, c), (d_length, d) = run_crossover(first, second, seed, capacity)
    for length, child in ((c_length, c), (d_length, d)):
        assert length == -1 or 1 <= length <= capacity
        if length > 0:
            assert_valid_program(
                child.opcodes, child.arguments, child.constants, length
            )


@settings(max_examples=100)
@given(
    programs(n_features=N_FEATURES, max_size=20, operators=("add",)),
    st.integers(0, 2**32 - 1),
)
def test_rotate_keeps_the_value_of_a_sum(program, seed):
    # Addition is associative, so regrouping a sum must not change its value.
    parent, child_length, child = run_mutation(ROTATE, program, seed)
    if child_length == -1:
        return
    opcodes, arguments, constants = program
    np.testing.assert_allclose(
        _evaluate(child.opcodes, child.arguments, child.constants, child_length),
        _evaluate(opcodes, arguments, constants, len(opcodes)),
        rtol=1e-12,
        atol=1e-12,
    )


def test_rotate_regroups_a_product():
    # (x0 * x1) / x2 -> x0 * (x1 / x2), the only possible regrouping here.
    opcodes, arguments, constants = program("x0", "x1", "mul", "x2", "div")
    parent, child_length, child = run_mutation(
        ROTATE, (opcodes, arguments, constants), 0
    )
    assert child_length == 5
    expected, _, _ = program("x0", "x1", "x2", "div", "mul")
    np.testing.assert_array_equal(child.opcodes[:5], expected)
    np.testing.assert_array_equal(child.arguments[:5], [0, 1, 2, 0, 0])
