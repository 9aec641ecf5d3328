"""Estimators for any panel (DiD, event study, wild bootstrap, inference, power); they import nothing else of ours."""
