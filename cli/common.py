"""What both console scripts share: JSON output and turning errors into one line and an exit code."""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import sys
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape

from toc.errors import UserError

# soft_wrap: one message, one line, whatever the terminal width (80 columns when the output is a pipe), so
# that `toc validate` prints one line per problem and errors stay one line.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


#: Characters that steer a terminal instead of showing: C0 and C1 controls (ESC, CSI, ...), DEL, and the
#: bidirectional overrides that reorder what is shown.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """Text from a user or a file as the terminal may show it: control characters removed (also line breaks:
    one message, one line)."""
    return _CONTROLS.sub("", str(text)).replace("\n", " ").replace("\t", " ")


def shown(text: object) -> str:
    """`plain`, with rich markup escaped: for strings printed where markup is on (tables, styled lines)."""
    return escape(plain(text))


def friendly_errors(fn: Callable) -> Callable:
    """Run a command; a `UserError` becomes `error: ...` on stderr and exit code 1. Anything else is a bug
    and keeps its traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                err_console.print(f"error: {plain(line)}", markup=False, highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def print_json(data: object) -> None:
    """JSON on stdout, UTF-8 as is (Dutch labels stay readable), keys in a stable order. JSON escapes C0
    controls itself; C1 controls and bidirectional overrides are escaped here (`\\u009b`), so that no string
    from a file steers the terminal."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def run_and_exit(app: typer.Typer) -> None:
    """Run a console script, then leave without the interpreter's teardown.

    When a command returns, its files are closed and its warehouse writes committed. A normal exit then runs
    the exit handlers and frees every object of dagster, pandas and matplotlib one by one: one to two
    seconds on a small machine, for nothing. Run the exit handlers, flush, and leave with the same status.
    """
    try:
        app()
        status = 0
    except SystemExit as done:
        if not isinstance(done.code, int | None):
            raise  # a message to print: the normal exit prints it
        status = done.code or 0
    # what a normal exit runs first (logging, file locks, temporary files); CPython's own, long stable
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
