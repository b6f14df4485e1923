"""Upstream sync: an outbox of registry events, posted to the upstream registry's webhook in
order per beneficiary, retried for as long as it takes. Models live in ``models.py``."""
