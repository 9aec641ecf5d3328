"""What the estimators raise when the data cannot give an estimate (as linearmodels' `shared/exceptions.py`).

The estimators are a library for any panel and import nothing else of ours, so `EstimationError` is a
`ValueError`, not a `toc.errors.UserError`; a caller that reads the user's own file (`pilot did`) says
which file it was.
"""

from __future__ import annotations


class EstimationError(ValueError):
    """The data do not identify the estimate asked for (no complete rows, no treated units, collinearity)."""
