"""Bots shipped with hookgram."""
