"""Upstream sync: an outbox of registry events (gateway/storage/outbox.py), posted to the
upstream registry's webhook in order per beneficiary, retried on a capped backoff for as long
as it takes, with a cap on requests in flight and a circuit breaker per registry."""
