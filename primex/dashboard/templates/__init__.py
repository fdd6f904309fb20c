"""Jinja templates and the stylesheet of the dashboard (package data)."""
