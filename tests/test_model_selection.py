"""Pareto front, scores and the choice of the answer, on hand-made fronts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lawfinder.model_selection import pareto_front, scores, select
from lawfinder.search.result import HallOfFameEntry


def entry(complexity, loss):
    program = np.zeros(complexity, dtype=np.int64)
    return HallOfFameEntry(program, program, np.empty(0), complexity, loss)


def front_of(pairs):
    return [entry(complexity, loss) for complexity, loss in pairs]


def test_front_keeps_only_strict_improvements_in_complexity_order():
    entries = front_of([(5, 0.5), (1, 2.0), (3, 2.0), (4, 1.0), (7, 0.6), (9, 0.1)])

    front = pareto_front(entries)

    assert [e.complexity for e in front] == [1, 4, 5, 9]
    assert [e.loss for e in front] == [2.0, 1.0, 0.5, 0.1]


def test_front_drops_non_finite_losses_and_keeps_the_better_of_equal_size():
    entries = front_of([(1, np.inf), (2, np.nan), (3, 4.0), (3, 3.0), (5, 1.0)])

    front = pareto_front(entries)

    assert [(e.complexity, e.loss) for e in front] == [(3, 3.0), (5, 1.0)]


def test_front_drops_improvements_below_the_floor():
    entries = front_of([(1, 1.0), (3, 1e-30), (5, 1e-32), (7, 0.0)])

    front = pareto_front(entries, loss_floor=1e-20)

    assert [e.complexity for e in front] == [1, 3]


def test_front_drops_improvements_below_the_relative_tolerance():
    entries = front_of([(1, 2.0), (2, 2.0 * (1 - 1e-12)), (3, 1.0), (4, 0.99)])

    front = pareto_front(entries, rtol=1e-6)

    assert [e.complexity for e in front] == [1, 3, 4]
    assert len(pareto_front(entries)) == 4


def test_front_of_nothing_is_empty():
    assert pareto_front([]) == []


def test_scores_are_log_loss_slopes_between_neighbours():
    losses = [1.0, np.exp(-3.0), np.exp(-4.0)]
    complexities = [1, 4, 8]

    result = scores(losses, complexities)

    np.testing.assert_allclose(result, [0.0, 1.0, 0.25])


def test_an_exact_fit_scores_finitely():
    result = scores([1.0, 0.0], [1, 3])

    assert np.isfinite(result).all()
    assert result[1] > 100


def test_losses_below_the_floor_score_zero():
    result = scores([1.0, 1e-20, 1e-25], [1, 3, 5], loss_floor=1e-16)

    np.testing.assert_allclose(result, [0.0, np.log(1e16) / 2, 0.0])


def test_scores_refuse_complexities_that_do_not_increase():
    with pytest.raises(ValueError, match="increase strictly"):
        scores([2.0, 1.0], [3, 3])


def test_scores_of_an_empty_front_are_empty():
    assert scores([], []).shape == (0,)


@pytest.fixture
def front():
    # The jump from 1 to 1e-3 at complexity 3 is the law; the rest is noise-fitting.
    return front_of([(1, 1.0), (3, 1e-3), (5, 0.9e-3), (9, 0.8e-3)])


def test_accuracy_takes_the_lowest_loss(front):
    assert select(front, "accuracy") == 3


def test_score_takes_the_steepest_drop(front):
    assert select(front, "score") == 1


def test_best_takes_the_highest_score_among_nearly_lowest_losses():
    # Complexity 3 has the top score but a loss 10x the lowest: 'best' skips it.
    front = front_of([(1, 1.0), (3, 1e-2), (5, 1e-3), (7, 0.9e-3)])

    assert select(front, "score") == 1
    assert select(front, "best") == 2


def test_best_is_the_default(front):
    assert select(front) == select(front, "best") == 1


def test_select_reads_a_table(front):
    table = pd.DataFrame(
        {"complexity": [e.complexity for e in front], "loss": [e.loss for e in front]}
    )

    assert select(table, "accuracy") == 3
    assert select(table, "best") == 1


def test_accuracy_prefers_the_simplest_exact_fit_under_the_floor():
    front = front_of([(1, 1.0), (3, 1e-30), (5, 1e-32)])

    assert select(front, "accuracy", loss_floor=1e-20) == 1
    assert select(front, "accuracy") == 2


def test_a_single_equation_is_chosen():
    assert select(front_of([(1, 3.0)]), "best") == 0


def test_unknown_model_selection_lists_the_allowed_values(front):
    with pytest.raises(ValueError, match="'best', 'accuracy', 'score'"):
        select(front, "simplest")


def test_empty_front_cannot_be_selected_from():
    with pytest.raises(ValueError, match="empty"):
        select([], "best")
