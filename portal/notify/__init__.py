"""Notices to people: an outbox written with the change, delivered after it commits."""
