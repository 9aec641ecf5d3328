"""Theories of Change as data: models, loading, validation, graph queries, diffs and diagrams.

This package stands alone: it imports neither `measures` nor `pipelines`.
"""
