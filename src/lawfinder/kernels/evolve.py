"""One cycle of age-regularised evolution on an island, and its helpers.

Every step picks a parent by tournament, varies it, scores the child and
accepts it by simulated annealing; the child (or, when rejected, a copy of the
parent) replaces the oldest member. Scores are
``loss / loss_scale + parsimony * complexity + penalty``, where ``penalty`` is
``unit_penalty`` times the number of places where the program combines units
inconsistently (zero when the units are not known); tournaments and acceptance
also penalise complexities that crowd the island (adaptive parsimony).
"""

from __future__ import annotations

import numpy as np

from .._config import ROW_BLOCK, kernel
from .evaluate import program_loss
from .fitting import count_constants, fit_constants, make_scratch
from .random import random_float, random_int
from .units import unit_violations
from .variation import (
    N_MUTATIONS,
    START,
    crossover,
    has_nesting,
    mutate,
    program_complexity,
    program_depth,
    random_program,
)


@kernel
def _score(loss, complexity, loss_scale, parsimony):
    return loss / loss_scale + parsimony * complexity


@kernel
def units_penalty(
    opcodes, arguments, length, feature_units, target_units, unit_penalty, stack
):
    """``unit_penalty`` times the program's unit violations; 0 without units
    (``target_units`` of length 0) or without a penalty."""
    if unit_penalty == 0.0 or target_units.shape[0] == 0:
        return 0.0
    return unit_penalty * unit_violations(
        opcodes, arguments, length, feature_units, target_units, stack
    )


@kernel
def _crowding_factor(frequencies, complexity, population_size, adaptive_scaling):
    return np.exp(adaptive_scaling * frequencies[complexity] / population_size)


@kernel
def _tournament(
    state,
    pop_loss,
    pop_complexity,
    pop_penalty,
    frequencies,
    loss_scale,
    parsimony,
    adaptive_scaling,
    tournament_size,
    tournament_probability,
    picks,
    adjusted,
):
    """Index of the winner of a tournament among random members."""
    population_size = pop_loss.shape[0]
    for t in range(tournament_size):
        member = random_int(state, population_size)
        picks[t] = member
        c = pop_complexity[member]
        score = _score(pop_loss[member], c, loss_scale, parsimony)
        adjusted[t] = (score + pop_penalty[member]) * (
            _crowding_factor(frequencies, c, population_size, adaptive_scaling)
        )
    # Rank r wins with probability p (1 - p)^r: take the best, else go on.
    for _ in range(tournament_size - 1):
        best = 0
        for t in range(1, tournament_size):
            if adjusted[t] < adjusted[best]:
                best = t
        if random_float(state) < tournament_probability:
            return picks[best]
        adjusted[best] = np.inf
    best = 0
    for t in range(1, tournament_size):
        if adjusted[t] < adjusted[best]:
            best = t
    return picks[best]


@kernel
def _oldest(pop_birth):
    oldest = 0
    for i in range(1, pop_birth.shape[0]):
        if pop_birth[i] < pop_birth[oldest]:
            oldest = i
    return oldest


@kernel
def _store(
    pop_o,
    pop_a,
    pop_c,
    pop_len,
    pop_loss,
    pop_complexity,
    pop_birth,
    pop_penalty,
    slot,
    c_o,
    c_a,
    c_c,
    length,
    loss,
    complexity,
    birth,
    penalty,
    frequencies,
):
    """Put a program into member ``slot``, keeping the complexity counts."""
    frequencies[pop_complexity[slot]] -= 1.0
    frequencies[complexity] += 1.0
    # Loops rather than slice assignment, which is slow for numba to compile.
    for k in range(length):
        pop_o[slot, k] = c_o[k]
        pop_a[slot, k] = c_a[k]
    for k in range(c_c.shape[0]):
        pop_c[slot, k] = c_c[k]
    pop_len[slot] = length
    pop_loss[slot] = loss
    pop_complexity[slot] = complexity
    pop_birth[slot] = birth
    pop_penalty[slot] = penalty


@kernel
def _is_valid(c_o, length, complexity_of, maxsize, maxdepth, no_nesting):
    if length <= 0:
        return False
    if program_complexity(c_o, length, complexity_of) > maxsize:
        return False
    if program_depth(c_o, length) > maxdepth:
        return False
    return not has_nesting(c_o, length, no_nesting)


@kernel
def _pick_mutation(state, cumulative_weights):
    draw = random_float(state) * cumulative_weights[N_MUTATIONS - 1]
    for kind in range(N_MUTATIONS):
        if draw < cumulative_weights[kind]:
            return kind
    return N_MUTATIONS - 1


@kernel
def evolve_cycle(
    pop_o,
    pop_a,
    pop_c,
    pop_len,
    pop_loss,
    pop_complexity,
    pop_birth,
    pop_penalty,
    XT,
    y,
    weights,
    loss_scale,
    feature_units,
    target_units,
    unit_penalty,
    binary_ops,
    unary_ops,
    complexity_of,
    no_nesting,
    maxsize,
    maxdepth,
    mutation_weights,
    crossover_probability,
    tournament_size,
    tournament_probability,
    parsimony,
    alpha,
    adaptive_scaling,
    optimize_probability,
    optimizer_iterations,
    n_steps,
    next_birth,
    state,
):
    """Evolve an island for ``n_steps`` steps, the temperature falling 1 -> 0.

    Returns ``(n_evaluations, next_birth)``.
    """
    population_size, capacity = pop_o.shape
    n_features = XT.shape[0]
    child_o = np.zeros((2, capacity), dtype=np.int64)
    child_a = np.zeros((2, capacity), dtype=np.int64)
    child_c = np.zeros((2, capacity))
    loss_stack = np.empty((capacity, ROW_BLOCK))
    values, derivatives, active, factor = make_scratch(capacity, capacity)
    picks = np.empty(tournament_size, dtype=np.int64)
    adjusted = np.empty(tournament_size)
    cumulative = np.cumsum(mutation_weights)
    unit_scratch = np.empty((capacity, target_units.shape[0] + 1))
    frequencies = np.zeros(maxsize + 1)
    for i in range(population_size):
        frequencies[pop_complexity[i]] += 1.0
    n_evaluations = 0

    for step in range(n_steps):
        temperature = 1.0 - step / n_steps
        if random_float(state) < crossover_probability:
            first = _tournament(
                state,
                pop_loss,
                pop_complexity,
                pop_penalty,
                frequencies,
                loss_scale,
                parsimony,
                adaptive_scaling,
                tournament_size,
                tournament_probability,
                picks,
                adjusted,
            )
            second = _tournament(
                state,
                pop_loss,
                pop_complexity,
                pop_penalty,
                frequencies,
                loss_scale,
                parsimony,
                adaptive_scaling,
                tournament_size,
                tournament_probability,
                picks,
                adjusted,
            )
            lengths = crossover(
                state,
                pop_o[first],
                pop_a[first],
                pop_c[first],
                pop_len[first],
                pop_o[second],
                pop_a[second],
                pop_c[second],
                pop_len[second],
                child_o[0],
                child_a[0],
                child_c[0],
                child_o[1],
                child_a[1],
                child_c[1],
            )
            for j in range(2):
                length = lengths[j]
                if not _is_valid(
                    child_o[j], length, complexity_of, maxsize, maxdepth, no_nesting
                ):
                    continue
                loss = program_loss(
                    child_o[j],
                    child_a[j],
                    length,
                    child_c[j],
                    XT,
                    y,
                    weights,
                    loss_stack,
                )
                n_evaluations += 1
                if not np.isfinite(loss):
                    continue
                _store(
                    pop_o,
                    pop_a,
                    pop_c,
                    pop_len,
                    pop_loss,
                    pop_complexity,
                    pop_birth,
                    pop_penalty,
                    _oldest(pop_birth),
                    child_o[j],
                    child_a[j],
                    child_c[j],
                    length,
                    loss,
                    program_complexity(child_o[j], length, complexity_of),
                    next_birth,
                    units_penalty(
                        child_o[j],
                        child_a[j],
                        length,
                        feature_units,
                        target_units,
                        unit_penalty,
                        unit_scratch,
                    ),
                    frequencies,
                )
                next_birth += 1
            continue

        parent = _tournament(
            state,
            pop_loss,
            pop_complexity,
            pop_penalty,
            frequencies,
            loss_scale,
            parsimony,
            adaptive_scaling,
            tournament_size,
            tournament_probability,
            picks,
            adjusted,
        )
        p_len = pop_len[parent]
        length = -1
        for _ in range(10):
            kind = _pick_mutation(state, cumulative)
            length = mutate(
                state,
                kind,
                temperature,
                n_features,
                binary_ops,
                unary_ops,
                pop_o[parent],
                pop_a[parent],
                pop_c[parent],
                p_len,
                child_o[0],
                child_a[0],
                child_c[0],
                maxsize,
            )
            if _is_valid(
                child_o[0], length, complexity_of, maxsize, maxdepth, no_nesting
            ):
                break
            length = -1

        accepted = False
        if length > 0:
            if (
                count_constants(child_o[0], length) > 0
                and random_float(state) < optimize_probability
            ):
                loss, used = fit_constants(
                    child_o[0],
                    child_a[0],
                    length,
                    child_c[0],
                    XT,
                    y,
                    weights,
                    optimizer_iterations,
                    values,
                    derivatives,
                    active,
                    factor,
                    loss_stack,
                )
            else:
                loss = program_loss(
                    child_o[0],
                    child_a[0],
                    length,
                    child_c[0],
                    XT,
                    y,
                    weights,
                    loss_stack,
                )
                used = 1
            n_evaluations += used
            if np.isfinite(loss):
                complexity = program_complexity(child_o[0], length, complexity_of)
                old_complexity = pop_complexity[parent]
                penalty = units_penalty(
                    child_o[0],
                    child_a[0],
                    length,
                    feature_units,
                    target_units,
                    unit_penalty,
                    unit_scratch,
                )
                new_score = _score(loss, complexity, loss_scale, parsimony) + penalty
                old_score = (
                    _score(pop_loss[parent], old_complexity, loss_scale, parsimony)
                    + pop_penalty[parent]
                )
                probability = 1.0
                if new_score > old_score:
                    if temperature > 0.0:
                        probability = np.exp(
                            -(new_score - old_score) / (alpha * temperature * old_score)
                        )
                    else:
                        probability = 0.0
                # Moving to a rarer complexity is favoured, to a crowded one not.
                probability *= (frequencies[old_complexity] + 1.0) / (
                    frequencies[complexity] + 1.0
                )
                if probability >= 1.0 or random_float(state) < probability:
                    accepted = True
                    _store(
                        pop_o,
                        pop_a,
                        pop_c,
                        pop_len,
                        pop_loss,
                        pop_complexity,
                        pop_birth,
                        pop_penalty,
                        _oldest(pop_birth),
                        child_o[0],
                        child_a[0],
                        child_c[0],
                        length,
                        loss,
                        complexity,
                        next_birth,
                        penalty,
                        frequencies,
                    )
        if not accepted:
            oldest = _oldest(pop_birth)
            if oldest != parent:
                _store(
                    pop_o,
                    pop_a,
                    pop_c,
                    pop_len,
                    pop_loss,
                    pop_complexity,
                    pop_birth,
                    pop_penalty,
                    oldest,
                    pop_o[parent],
                    pop_a[parent],
                    pop_c[parent],
                    p_len,
                    pop_loss[parent],
                    pop_complexity[parent],
                    next_birth,
                    pop_penalty[parent],
                    frequencies,
                )
            else:
                pop_birth[parent] = next_birth
        next_birth += 1
    return n_evaluations, next_birth


@kernel
def random_population(
    pop_o,
    pop_a,
    pop_c,
    pop_len,
    pop_complexity,
    n_features,
    binary_ops,
    unary_ops,
    complexity_of,
    no_nesting,
    maxsize,
    maxdepth,
    max_initial_size,
    state,
):
    """Fill every member with a random valid program of 1 to ``max_initial_size``."""
    for i in range(pop_o.shape[0]):
        while True:
            size = 1 + random_int(state, max_initial_size)
            pop_c[i, :] = 0.0
            length, _ = random_program(
                state,
                size,
                n_features,
                binary_ops,
                unary_ops,
                pop_o[i],
                pop_a[i],
                pop_c[i],
                START,
                START,
            )
            if _is_valid(
                pop_o[i], length, complexity_of, maxsize, maxdepth, no_nesting
            ):
                break
        pop_len[i] = length
        pop_complexity[i] = program_complexity(pop_o[i], length, complexity_of)
