"""Charter: a self-hosted test management server for exploratory testing."""

__version__ = "0.1.0"
