"""Model Registry Guard's audit: scan the live registry, judge it with the rule catalogue, report."""

__version__ = "0.1.0"
