"""The toolkit's one error family.

`UserError` is a problem the user can act on (a file, an argument, a delivery): the console scripts print
its message as one line and exit 1, without a traceback. Anything else is a bug and keeps its traceback.
It lives here, in the bottom layer (`toc` imports nothing of ours), so that every package derives from it.
The estimators in `measures.estimation` are a library for any panel and raise `ValueError`s of their own.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message says what and where (file, row, column, node)."""


class TocError(UserError):
    """A ToC that cannot be loaded or queried as asked (an unknown id, node or file)."""
