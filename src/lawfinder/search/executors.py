"""Where islands run: threads in this process, or a Dask cluster.

An executor has one method, ``map(function, islands, *arguments)``, that
returns the evolved islands in order. The search does not know which kind it
talks to.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Sequence


class ThreadExecutor:
    """Run islands in threads; the kernels release the GIL so they run at once."""

    def __init__(self, n_jobs: int = 1) -> None:
        self.n_jobs = n_jobs
        self._pool = (
            concurrent.futures.ThreadPoolExecutor(max_workers=n_jobs)
            if n_jobs > 1
            else None
        )

    def map(self, function: Callable, islands: Sequence, *arguments) -> list:
        if self._pool is None:
            return [function(island, *arguments) for island in islands]
        futures = [
            self._pool.submit(function, island, *arguments) for island in islands
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # Let running cycles end so no island is left half-written.
            concurrent.futures.wait(futures)
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> ThreadExecutor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class DaskExecutor:
    """Run islands as tasks on a Dask ``distributed.Client``.

    The data and settings are scattered once to every worker; each island
    travels to a worker, evolves for one cycle and comes back.
    """

    def __init__(self, client) -> None:
        self.client = client
        self._scattered: dict[int, object] = {}

    def _scatter(self, value):
        key = id(value)
        if key not in self._scattered:
            self._scattered[key] = (
                value,
                # Unhashed keys: a key named after the content could be released
                # by an earlier executor while this one still needs it.
                self.client.scatter(value, broadcast=True, hash=False),
            )
        return self._scattered[key][1]

    def map(self, function: Callable, islands: Sequence, *arguments) -> list:
        shared = [self._scatter(argument) for argument in arguments]
        futures = [
            self.client.submit(function, island, *shared, pure=False)
            for island in islands
        ]
        return self.client.gather(futures)

    def close(self) -> None:
        self._scattered.clear()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
