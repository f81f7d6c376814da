"""Handlers: what the worker runs for each source's stored events."""
