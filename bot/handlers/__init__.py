"""Telegram handlers: thin functions that parse, call the domain and storage, and render."""
