"""Printed, multilingual patient handouts for ketamine therapy."""

__version__ = "0.6.0"
