"""Progress of a search in the terminal, and the final Pareto front as a table.

``ProgressDisplay`` is a search callback. In a terminal it keeps one table up to
date in place (rich ``Live``); so it does in a Jupyter notebook where ipywidgets
is installed, as rich's ``Live`` redraws there into an output widget. When the
output goes to a file, a pipe or a notebook without ipywidgets it prints a plain
line now and then instead, so logs stay readable.
Only the command line and ``verbose=True`` use this module: the search itself
never prints.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from collections.abc import Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from .model_selection import pareto_front

# Mark of the chosen equation; ASCII so it prints under any locale.
CHOSEN_MARK = ">"


class ProgressDisplay:
    """Show a running search: time, speed and the best equation of each size.

    Pass it in ``callbacks`` of ``SymbolicRegressor`` and use it as a context
    manager around ``fit``, so the live table is closed even if the fit fails.

    Parameters
    ----------
    variable_names : sequence of str
        Names of the features, used to print equations.
    target_name : str, default "y"
        Name of the target, printed on the left of each equation.
    console : rich.console.Console, optional
        Where to draw. Defaults to a console on standard output.
    plain_interval : float, default 10.0
        Seconds between two plain lines when the console is not a terminal.
        The first iteration is always reported.
    refresh_per_second : float, default 2.0
        Redraws per second of the live table in a terminal or a notebook.

    Examples
    --------
    >>> from lawfinder import SymbolicRegressor
    >>> display = ProgressDisplay(["a"], target_name="P")
    >>> model = SymbolicRegressor(niterations=20, callbacks=[display])
    >>> with display:  # doctest: +SKIP
    ...     model.fit(X, y)
    """

    def __init__(
        self,
        variable_names: Sequence[str],
        target_name: str = "y",
        console: Console | None = None,
        plain_interval: float = 10.0,
        refresh_per_second: float = 2.0,
    ) -> None:
        self.variable_names = list(variable_names)
        self.target_name = target_name
        self.console = console if console is not None else Console()
        self.plain_interval = plain_interval
        self.refresh_per_second = refresh_per_second

        self._live: Live | None = None
        self._state = None
        self._state_received = 0.0
        self._last_plain_line = -math.inf
        self._equations = _EquationCache(self.variable_names)
        self._lock = threading.Lock()

    @property
    def live(self) -> bool:
        """Whether the table is drawn in place (a terminal, a notebook) or as lines."""
        if self.console.is_jupyter:
            # rich draws a live view in a notebook only through an ipywidgets Output.
            return importlib.util.find_spec("ipywidgets") is not None
        return self.console.is_terminal and not self.console.is_dumb_terminal

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            # redirect_* off: other threads printing would otherwise be captured.
            self._live = Live(
                console=self.console,
                get_renderable=self._render,
                refresh_per_second=self.refresh_per_second,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stop redrawing, leaving the last table on screen."""
        if self._live is not None:
            # In a notebook rich's stop does not redraw: show the final state first.
            if self.console.is_jupyter:
                self._live.refresh()
            self._live.stop()
            self._live = None

    def on_iteration(self, state) -> bool:
        """Record ``state``; print a plain line if one is due. Never stops a search."""
        now = time.monotonic()
        with self._lock:
            self._state = state
            self._state_received = now

        if not self.live and now - self._last_plain_line >= self.plain_interval:
            self._last_plain_line = now
            self.console.print(
                self.status_line(state), soft_wrap=True, markup=False, highlight=False
            )
        return False

    def status_line(self, state) -> str:
        """One line: iteration, elapsed, time left, speed and the best equation."""
        parts = self._summary(state)
        best = min(state.hall_of_fame, key=lambda entry: entry.loss, default=None)
        if best is not None:
            equation = self._equations.text(best)
            parts.append(f"best loss {best.loss:.4g}: {self.target_name} = {equation}")
        return " | ".join(parts)

    def _summary(self, state, since_state: float = 0.0) -> list[str]:
        """Iteration, clock and speed, ``since_state`` seconds after ``state``."""
        parts = [
            _iteration_text(state),
            f"{format_duration(state.elapsed + since_state)} elapsed",
        ]
        left = time_left(state)
        if left is not None:
            left = max(0.0, left - since_state)
            parts.append(f"~{format_duration(left)} left ({state.fraction_done:.0%})")
        parts.append(f"{state.evals_per_second:.3g} evals/s")
        return parts

    def _render(self):
        """The live view of the last state, its clock moved on to now."""
        with self._lock:
            state, received = self._state, self._state_received
        if state is None:
            return Text("Starting the search (the first run compiles the kernels)...")
        header = Text(" | ".join(self._summary(state, time.monotonic() - received)))

        entries = sorted(state.hall_of_fame, key=lambda entry: entry.complexity)
        # Two lines of header; past the screen, the dominated entries go first.
        if len(entries) + 2 > self.console.height:
            entries = pareto_front(entries)

        # The equation column takes the width the numbers leave and is cut there;
        # otherwise a long equation squeezes the number columns out of the table.
        table = Table(box=None, pad_edge=False, header_style="bold", expand=True)
        table.add_column("complexity", justify="right", no_wrap=True)
        table.add_column("loss", justify="right", no_wrap=True)
        table.add_column("equation", no_wrap=True, overflow="ellipsis", ratio=1)
        best_loss = math.inf
        for entry in entries:
            # An entry no better than a simpler one is shown dimmed.
            style = None if entry.loss < best_loss else "dim"
            best_loss = min(best_loss, entry.loss)
            equation = Text(f"{self.target_name} = {self._equations.text(entry)}")
            table.add_row(
                str(entry.complexity), f"{entry.loss:.4g}", equation, style=style
            )
        return Group(header, table)


class _EquationCache:
    """Text of hall-of-fame programs, printed once each while the search runs."""

    # Bounded because a long search replaces its hall of fame many times.
    MAX_ENTRIES = 2048

    def __init__(self, variable_names: list[str]) -> None:
        self.variable_names = variable_names
        self._texts: dict[tuple[bytes, bytes, bytes], str] = {}

    def text(self, entry) -> str:
        key = (
            entry.opcodes.tobytes(),
            entry.arguments.tobytes(),
            entry.constants.tobytes(),
        )
        text = self._texts.get(key)
        if text is None:
            from .expression import Expression

            expression = Expression(
                entry.opcodes, entry.arguments, entry.constants, self.variable_names
            )
            text = str(expression)
            if len(self._texts) >= self.MAX_ENTRIES:
                self._texts.clear()
            self._texts[key] = text
        return text


def pareto_front_table(
    equations, chosen_index=None, target_name: str = "y", title: str | None = None
) -> Table:
    """The Pareto front as a rich table, the chosen equation marked.

    Parameters
    ----------
    equations : pandas.DataFrame
        The ``equations_`` table of a fitted ``SymbolicRegressor``: columns
        complexity, loss, score and equation, one row per complexity. Where
        it has the ``expression`` column, each constant shows with its
        standard error, as in ``1.086(11)``.
    chosen_index : index label, optional
        Row of the chosen equation (``best_index_``); marked with ``>``.
    target_name : str, default "y"
        Printed on the left of each equation.
    title : str, optional
        Title above the table.

    Returns
    -------
    rich.table.Table

    Examples
    --------
    >>> from rich.console import Console
    >>> Console().print(pareto_front_table(model.equations_, model.best_index_))
    ... # doctest: +SKIP
    """
    table = Table(title=title, caption=f"{CHOSEN_MARK} chosen equation")
    table.add_column("", width=1)
    table.add_column("complexity", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("score", justify="right")
    table.add_column("equation", overflow="fold")

    for index, row in equations.iterrows():
        chosen = index == chosen_index
        table.add_row(
            CHOSEN_MARK if chosen else "",
            str(row["complexity"]),
            f"{row['loss']:.4g}",
            f"{row['score']:.4g}",
            Text(f"{target_name} = {_equation_with_uncertainties(row)}"),
            style="bold" if chosen else None,
        )
    return table


def _equation_with_uncertainties(row) -> str:
    """Text of the row's equation, constants as ``1.086(11)`` where known."""
    expression = row.get("expression")
    if expression is None:
        return row["equation"]
    return expression.to_text(uncertainties=True)


def time_left(state) -> float | None:
    """Seconds the search still has, from its fraction done; None if unknown."""
    fraction = state.fraction_done
    if fraction is None or fraction <= 0:
        return None
    return max(0.0, state.elapsed * (1.0 - fraction) / fraction)


def format_duration(seconds: float) -> str:
    """``seconds`` as ``4.2 s``, ``3 min 05 s`` or ``1 h 02 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _iteration_text(state) -> str:
    if state.niterations:
        return f"iteration {state.iteration}/{state.niterations}"
    return f"iteration {state.iteration}"
