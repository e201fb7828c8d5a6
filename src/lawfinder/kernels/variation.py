"""Random programs, mutations and crossover on postfix arrays.

A subtree is a contiguous slice ending at its root, found from the arities,
so every variation is a few copies of slices. Children are written into
caller-owned buffers; constant slots are renumbered in order of appearance.
Each variation returns the child's length, or -1 when it cannot apply or the
child would not fit in the buffer.
"""

from __future__ import annotations

import numpy as np

from .._config import inlined_kernel, kernel
from ..operators import ARITY, CONSTANT, VARIABLE
from .evaluate import apply_operator
from .random import random_float, random_int, random_normal

# Mutation kinds, in the order of the weights array the search passes in.
MUTATE_CONSTANT = 0
MUTATE_OPERATOR = 1
MUTATE_LEAF = 2
SWAP_OPERANDS = 3
ADD_NODE = 4
INSERT_NODE = 5
DELETE_NODE = 6
REPLACE_SUBTREE = 7
SIMPLIFY = 8
RANDOMIZE = 9
ROTATE = 10
N_MUTATIONS = 11

CONSTANT_PROBABILITY = 0.25

# Node kinds for _count_kind and _pick_kind. A plain int argument would make
# numba compile a copy of the callee for each literal value; np.int64 does not.
LEAVES = np.int64(0)
BINARY_NODES = np.int64(2)
CONSTANT_NODES = np.int64(3)
OPERATOR_NODES = np.int64(4)
START = np.int64(0)


@kernel
def subtree_start(opcodes, end):
    """Index of the first node of the subtree whose root is at ``end``."""
    need = 1
    k = end + 1
    while need > 0:
        k -= 1
        need += ARITY[opcodes[k]] - 1
    return k


@kernel
def program_depth(opcodes, length):
    """Depth of the tree: 1 for a single leaf."""
    depths = np.empty(length, dtype=np.int64)
    top = -1
    deepest = 0
    for k in range(length):
        arity = ARITY[opcodes[k]]
        if arity == 0:
            top += 1
            depths[top] = 1
        elif arity == 1:
            depths[top] += 1
        else:
            top -= 1
            depths[top] = max(depths[top], depths[top + 1]) + 1
        deepest = max(deepest, depths[top])
    return deepest


@kernel
def has_nesting(opcodes, length, no_nesting):
    """Does a flagged operator have another flagged operator in its operands?

    ``no_nesting[op]`` is 1 for the operators that may not nest; all zeros
    allow any nesting.
    """
    # inside[level]: does the subtree on that stack level hold a flagged node?
    inside = np.empty(length, dtype=np.bool_)
    top = -1
    for k in range(length):
        op = opcodes[k]
        arity = ARITY[op]
        flagged = no_nesting[op] != 0
        if arity == 0:
            top += 1
            inside[top] = False
            continue
        if arity == 2:
            top -= 1
            inside[top] = inside[top] or inside[top + 1]
        if flagged and inside[top]:
            return True
        inside[top] = inside[top] or flagged
    return False


@kernel
def program_complexity(opcodes, length, complexity_of):
    """Sum of the complexities of the nodes."""
    total = 0
    for k in range(length):
        total += complexity_of[opcodes[k]]
    return total


@kernel
def append_segment(out_o, out_a, out_c, pos, n_const, src_o, src_a, src_c, start, stop):
    """Copy nodes ``start:stop`` to ``out`` at ``pos``; returns (pos, n_const)."""
    if pos < 0 or pos + (stop - start) > out_o.shape[0]:
        return -1, n_const
    for k in range(start, stop):
        op = src_o[k]
        out_o[pos] = op
        if op == CONSTANT:
            out_a[pos] = n_const
            out_c[n_const] = src_c[src_a[k]]
            n_const += 1
        else:
            out_a[pos] = src_a[k]
        pos += 1
    return pos, n_const


@kernel
def append_node(out_o, out_a, out_c, pos, n_const, opcode, argument, value):
    """Append one node; ``value`` is used by constant nodes only."""
    if pos < 0 or pos >= out_o.shape[0]:
        return -1, n_const
    out_o[pos] = opcode
    if opcode == CONSTANT:
        out_a[pos] = n_const
        out_c[n_const] = value
        n_const += 1
    else:
        out_a[pos] = argument
    return pos + 1, n_const


@kernel
def append_random_leaf(state, out_o, out_a, out_c, pos, n_const, n_features):
    """Append a variable, or sometimes a standard-normal constant."""
    if n_features == 0 or random_float(state) < CONSTANT_PROBABILITY:
        return append_node(
            out_o, out_a, out_c, pos, n_const, CONSTANT, 0, random_normal(state)
        )
    return append_node(
        out_o, out_a, out_c, pos, n_const, VARIABLE, random_int(state, n_features), 0.0
    )


@kernel
def _can_finish(remaining, height, has_unary):
    """Can ``remaining`` nodes take the stack from ``height`` to exactly one?"""
    if height == 0:
        return remaining >= 1 and (has_unary or remaining % 2 == 1)
    if remaining < height - 1:
        return False
    return has_unary or (remaining - (height - 1)) % 2 == 0


@kernel
def random_program(
    state, size, n_features, binary_ops, unary_ops, out_o, out_a, out_c, pos, n_const
):
    """Append a random program of exactly ``size`` nodes (when one exists)."""
    has_unary = unary_ops.shape[0] > 0
    if not has_unary and size % 2 == 0:
        size -= 1
    height = 0
    for k in range(size):
        remaining = size - k - 1
        can_leaf = _can_finish(remaining, height + 1, has_unary)
        can_unary = has_unary and height >= 1 and _can_finish(remaining, height, True)
        can_binary = height >= 2 and _can_finish(remaining, height - 1, has_unary)
        weight_leaf = 0.5 if can_leaf else 0.0
        weight_unary = 0.15 if can_unary else 0.0
        weight_binary = 0.35 if can_binary else 0.0
        draw = random_float(state) * (weight_leaf + weight_unary + weight_binary)
        if draw < weight_leaf:
            pos, n_const = append_random_leaf(
                state, out_o, out_a, out_c, pos, n_const, n_features
            )
            height += 1
        elif draw < weight_leaf + weight_unary:
            op = unary_ops[random_int(state, unary_ops.shape[0])]
            pos, n_const = append_node(out_o, out_a, out_c, pos, n_const, op, 0, 0.0)
        else:
            op = binary_ops[random_int(state, binary_ops.shape[0])]
            pos, n_const = append_node(out_o, out_a, out_c, pos, n_const, op, 0, 0.0)
            height -= 1
    return pos, n_const


@kernel
def _count_kind(opcodes, length, kind):
    """Count nodes of a kind: 0 leaves, 1 unary, 2 binary, 3 constants, 4 operators."""
    count = 0
    for k in range(length):
        op = opcodes[k]
        if kind == 3:
            count += op == CONSTANT
        elif kind == 4:
            count += ARITY[op] > 0
        else:
            count += ARITY[op] == kind
    return count


@kernel
def _pick_kind(state, opcodes, length, kind):
    """Index of a random node of a kind (see ``_count_kind``), or -1."""
    count = _count_kind(opcodes, length, kind)
    if count == 0:
        return -1
    target = random_int(state, count)
    for k in range(length):
        op = opcodes[k]
        if kind == 3:
            hit = op == CONSTANT
        elif kind == 4:
            hit = ARITY[op] > 0
        else:
            hit = ARITY[op] == kind
        if hit:
            if target == 0:
                return k
            target -= 1
    return -1


@kernel
def _copy(p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    pos, n_const = append_segment(
        c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, p_len
    )
    return pos


@inlined_kernel
def mutate_constant(state, temperature, p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Scale one constant by a random factor, or flip its sign."""
    k = _pick_kind(state, p_o, p_len, CONSTANT_NODES)
    if k < 0:
        return -1
    length = _copy(p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    slot = c_a[k]
    if random_float(state) < 0.1:
        c_c[slot] = -c_c[slot]
    else:
        c_c[slot] *= np.exp(random_normal(state) * (0.1 + temperature))
    return length


@inlined_kernel
def mutate_operator(state, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Replace one operator by another of the same arity."""
    k = _pick_kind(state, p_o, p_len, OPERATOR_NODES)
    if k < 0:
        return -1
    length = _copy(p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    if ARITY[p_o[k]] == 1:
        if unary_ops.shape[0] == 0:
            return -1
        c_o[k] = unary_ops[random_int(state, unary_ops.shape[0])]
    else:
        c_o[k] = binary_ops[random_int(state, binary_ops.shape[0])]
    return length


@inlined_kernel
def mutate_leaf(state, n_features, p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Replace one leaf by a random variable or constant."""
    k = _pick_kind(state, p_o, p_len, LEAVES)
    pos, n_const = append_segment(c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, k)
    pos, n_const = append_random_leaf(state, c_o, c_a, c_c, pos, n_const, n_features)
    pos, n_const = append_segment(
        c_o, c_a, c_c, pos, n_const, p_o, p_a, p_c, k + 1, p_len
    )
    return pos


@inlined_kernel
def swap_operands(state, p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Exchange the two operands of a binary node."""
    k = _pick_kind(state, p_o, p_len, BINARY_NODES)
    if k < 0:
        return -1
    right = subtree_start(p_o, k - 1)
    left = subtree_start(p_o, right - 1)
    pos, n = append_segment(c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, left)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, right, k)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, left, right)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k, p_len)
    return pos


@kernel
def _wrap(
    state, k, n_features, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
):
    """Put a new operator above the subtree rooted at ``k``."""
    start = subtree_start(p_o, k)
    pos, n = append_segment(c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, start)
    use_unary = unary_ops.shape[0] > 0 and random_float(state) < 0.3
    if use_unary:
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, start, k + 1)
        op = unary_ops[random_int(state, unary_ops.shape[0])]
    else:
        new_leaf_first = random_float(state) < 0.5
        if new_leaf_first:
            pos, n = append_random_leaf(state, c_o, c_a, c_c, pos, n, n_features)
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, start, k + 1)
        if not new_leaf_first:
            pos, n = append_random_leaf(state, c_o, c_a, c_c, pos, n, n_features)
        op = binary_ops[random_int(state, binary_ops.shape[0])]
    pos, n = append_node(c_o, c_a, c_c, pos, n, op, 0, 0.0)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k + 1, p_len)
    return pos


@inlined_kernel
def add_node(
    state, n_features, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
):
    """Put a new operator above a random leaf: the tree grows at its edge."""
    k = _pick_kind(state, p_o, p_len, LEAVES)
    return _wrap(
        state, k, n_features, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
    )


@inlined_kernel
def insert_node(
    state, n_features, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
):
    """Put a new operator above a random node, the root included."""
    k = random_int(state, p_len)
    return _wrap(
        state, k, n_features, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
    )


@inlined_kernel
def delete_node(state, p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Replace an operator node by one of its operands."""
    k = _pick_kind(state, p_o, p_len, OPERATOR_NODES)
    if k < 0:
        return -1
    start = subtree_start(p_o, k)
    keep_start = start
    keep_stop = k
    if ARITY[p_o[k]] == 2:
        right = subtree_start(p_o, k - 1)
        if random_float(state) < 0.5:
            keep_stop = right
        else:
            keep_start = right
    pos, n = append_segment(c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, start)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, keep_start, keep_stop)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k + 1, p_len)
    return pos


@inlined_kernel
def replace_subtree(
    state, n_features, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
):
    """Replace a random subtree by a random program of 1 to 7 nodes."""
    k = random_int(state, p_len)
    start = subtree_start(p_o, k)
    pos, n = append_segment(c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, start)
    size = 1 + random_int(state, 7)
    pos, n = random_program(
        state, size, n_features, binary_ops, unary_ops, c_o, c_a, c_c, pos, n
    )
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k + 1, p_len)
    return pos


@inlined_kernel
def rotate(state, p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Regroup a binary node with a binary operand: ``(a o b) O c`` becomes
    ``a o (b O c)``, or ``a O (b o c)`` becomes ``(a O b) o c``.

    Returns -1 when no binary node has a binary operand.
    """
    count = 0
    for k in range(p_len):
        if ARITY[p_o[k]] == 2 and _has_binary_operand(p_o, k):
            count += 1
    if count == 0:
        return -1
    target = random_int(state, count)
    k = -1
    for m in range(p_len):
        if ARITY[p_o[m]] == 2 and _has_binary_operand(p_o, m):
            if target == 0:
                k = m
                break
            target -= 1
    right = subtree_start(p_o, k - 1)
    left_is_binary = ARITY[p_o[right - 1]] == 2
    right_is_binary = ARITY[p_o[k - 1]] == 2
    if left_is_binary and (not right_is_binary or random_float(state) < 0.5):
        # a b o c O -> a b c O o
        pos, n = append_segment(
            c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, right - 1
        )
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, right, k + 1)
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, right - 1, right)
    else:
        # a b c o O -> a b O c o
        inner = subtree_start(p_o, k - 2)
        pos, n = append_segment(
            c_o, c_a, c_c, START, START, p_o, p_a, p_c, START, inner
        )
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k, k + 1)
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, inner, k - 1)
        pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k - 1, k)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, p_o, p_a, p_c, k + 1, p_len)
    return pos


@kernel
def _has_binary_operand(opcodes, k):
    """Is either operand of the binary node at ``k`` itself binary?"""
    if ARITY[opcodes[k - 1]] == 2:
        return True
    return ARITY[opcodes[subtree_start(opcodes, k - 1) - 1]] == 2


@inlined_kernel
def simplify(p_o, p_a, p_c, p_len, c_o, c_a, c_c):
    """Fold every operator whose operands are all constants into one constant.

    Returns -1 when nothing folds.
    """
    length = _copy(p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    folded = False
    k = 0
    while k < length:
        arity = ARITY[c_o[k]]
        if (
            arity == 0
            or c_o[k - 1] != CONSTANT
            or (arity == 2 and c_o[k - 2] != CONSTANT)
        ):
            k += 1
            continue
        start = k - arity
        left = c_c[c_a[start]]
        right = c_c[c_a[k - 1]] if arity == 2 else 0.0
        value = apply_operator(c_o[k], left, right)
        # The folded constant takes the slot of the first operand; later
        # slots shift down by the number of constants removed.
        slot = c_a[start]
        c_c[slot] = value
        for m in range(slot + 1, c_c.shape[0] - arity + 1):
            if m + arity - 1 < c_c.shape[0]:
                c_c[m] = c_c[m + arity - 1]
        for m in range(k + 1, length):
            c_o[m - arity] = c_o[m]
            c_a[m - arity] = c_a[m] - (arity - 1) if c_o[m] == CONSTANT else c_a[m]
        length -= arity
        folded = True
        k = start
    if not folded:
        return -1
    return length


@kernel
def crossover(
    state, a_o, a_a, a_c, a_len, b_o, b_a, b_c, b_len, c_o, c_a, c_c, d_o, d_a, d_c
):
    """Exchange a random subtree of ``a`` with one of ``b``: children c and d."""
    ka = random_int(state, a_len)
    kb = random_int(state, b_len)
    sa = subtree_start(a_o, ka)
    sb = subtree_start(b_o, kb)
    pos, n = append_segment(c_o, c_a, c_c, START, START, a_o, a_a, a_c, START, sa)
    pos, n = append_segment(c_o, c_a, c_c, pos, n, b_o, b_a, b_c, sb, kb + 1)
    length_c, n = append_segment(c_o, c_a, c_c, pos, n, a_o, a_a, a_c, ka + 1, a_len)
    pos, n = append_segment(d_o, d_a, d_c, START, START, b_o, b_a, b_c, START, sb)
    pos, n = append_segment(d_o, d_a, d_c, pos, n, a_o, a_a, a_c, sa, ka + 1)
    length_d, n = append_segment(d_o, d_a, d_c, pos, n, b_o, b_a, b_c, kb + 1, b_len)
    return length_c, length_d


@kernel
def mutate(
    state,
    kind,
    temperature,
    n_features,
    binary_ops,
    unary_ops,
    p_o,
    p_a,
    p_c,
    p_len,
    c_o,
    c_a,
    c_c,
    maxsize,
):
    """Apply mutation ``kind`` to the parent, writing the child; see constants."""
    if kind == MUTATE_CONSTANT:
        return mutate_constant(state, temperature, p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    if kind == MUTATE_OPERATOR:
        return mutate_operator(
            state, binary_ops, unary_ops, p_o, p_a, p_c, p_len, c_o, c_a, c_c
        )
    if kind == MUTATE_LEAF:
        return mutate_leaf(state, n_features, p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    if kind == SWAP_OPERANDS:
        return swap_operands(state, p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    if kind == ADD_NODE:
        return add_node(
            state,
            n_features,
            binary_ops,
            unary_ops,
            p_o,
            p_a,
            p_c,
            p_len,
            c_o,
            c_a,
            c_c,
        )
    if kind == INSERT_NODE:
        return insert_node(
            state,
            n_features,
            binary_ops,
            unary_ops,
            p_o,
            p_a,
            p_c,
            p_len,
            c_o,
            c_a,
            c_c,
        )
    if kind == DELETE_NODE:
        return delete_node(state, p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    if kind == REPLACE_SUBTREE:
        return replace_subtree(
            state,
            n_features,
            binary_ops,
            unary_ops,
            p_o,
            p_a,
            p_c,
            p_len,
            c_o,
            c_a,
            c_c,
        )
    if kind == SIMPLIFY:
        return simplify(p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    if kind == ROTATE:
        return rotate(state, p_o, p_a, p_c, p_len, c_o, c_a, c_c)
    size = 1 + random_int(state, max(1, maxsize // 3))
    pos, n = random_program(
        state, size, n_features, binary_ops, unary_ops, c_o, c_a, c_c, START, START
    )
    return pos
