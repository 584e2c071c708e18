"""Printed, multilingual patient handouts for ketamine therapy."""

__version__ = "0.3.0"
