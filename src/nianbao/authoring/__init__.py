"""Authoring: the fill-in workbook and realistic sample report sets."""
