"""cogni-review: a governance gate for DAO-run codebases."""

__version__ = "0.1.0"
