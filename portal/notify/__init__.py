"""Notices to people: an outbox written with the change, delivered by the scheduler's mail job."""
