"""The pilot's evaluation: panels, trends, effects, small-cell suppression, the business case and the simulator."""
