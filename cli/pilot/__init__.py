"""`pilot`: the pilot's data contract, synthetic drops, estimates and the evaluation pipeline.

A thin layer: each command parses its arguments, calls one function of `measures` or `pipelines`, and
prints. JSON output (`--json`) is a contract that other tools read.
"""

from __future__ import annotations

import typer

from cli.common import run_and_exit
from cli.pilot import data, estimates, exchange, runs

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

# the commands in the order `pilot --help` lists them
for command in (data.indicators, data.validate, data.simulate, data.template, data.contract, estimates.did):
    app.command()(command)
app.command("business-case")(estimates.business_case_cmd)
for command in (estimates.power, runs.run, runs.erase, runs.preregister, runs.demo, runs.report, runs.ui):
    app.command()(command)
for command in (data.keygen, data.pseudonymise):
    app.command()(command)
app.add_typer(exchange.export_app, name="export")
app.add_typer(exchange.import_app, name="import")


def main() -> None:
    """The console script."""
    run_and_exit(app)


if __name__ == "__main__":
    main()
