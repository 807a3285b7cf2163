"""A cross-border loyalty program for Django shops."""

__version__ = "0.1.0"
