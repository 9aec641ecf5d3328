"""The indicators: how each ToC output and effect is measured (the catalogue), and what a result says of a node."""
