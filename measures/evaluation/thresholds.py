"""The evaluation's fixed thresholds, each in one place with its reason (no imports: the CLIs read them).

- `MIN_CELL`: cells of fewer people are suppressed wherever numbers are shown (the usual rule of statistical
  disclosure control for person-level data; a run may raise it, never lower it below this).
- `BALANCE_THRESHOLD`: a standardised baseline difference above it is worth a warning (a common rule of thumb,
  Stuart 2010).
- `ALPHA`: the level of the effects (their 95% confidence intervals and their family-adjusted p-values decide
  improvement or worsening), as the pre-registered plan records it.
"""

MIN_CELL = 10
BALANCE_THRESHOLD = 0.25
ALPHA = 0.05
