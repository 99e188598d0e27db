"""Catalogue and stock connector: sources -> canonical records -> mapping -> plan -> push -> report."""

__version__ = "0.1.0"
