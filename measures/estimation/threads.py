"""How many threads BLAS may use for a fit of a given size.

The fits of a pilot-sized panel multiply matrices of a few columns and thousands of rows: one thread does
them as fast as two, while a second OpenBLAS thread spins on a core that the rest of the run (and, on a
shared machine, other users) needs (measured: the same evaluation of a 10k-row drop costs ~8 % more CPU time
with two threads). Large panels keep every thread: their cross-products are where BLAS earns its threads.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

#: Below this many rows BLAS runs on one thread.
SMALL_FIT_ROWS = 1_000_000


def blas_threads(n_rows: int) -> AbstractContextManager:
    """A context in which BLAS uses one thread when ``n_rows`` is below SMALL_FIT_ROWS (else no limit)."""
    if n_rows >= SMALL_FIT_ROWS:
        return nullcontext()
    from threadpoolctl import threadpool_limits  # here: it inspects the loaded libraries, a few milliseconds

    return threadpool_limits(limits=1, user_api="blas")
