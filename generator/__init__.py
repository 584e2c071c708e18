"""Printed, multilingual patient handouts for ketamine therapy."""

__version__ = "0.4.0"
