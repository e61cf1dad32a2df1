"""mlmon: is my model in production still healthy? Serving health and drift from prediction logs."""

__version__ = "0.1.0"
