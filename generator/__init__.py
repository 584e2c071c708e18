"""Printed, multilingual patient handouts for ketamine therapy."""

__version__ = "0.2.0"
