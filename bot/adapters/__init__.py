"""Adapters: each turns one network's events into Inbound and renders Replies its own way."""
