"""Health workers (ASHA/ANM): accounts with a PIN, their USSD journey and SMS commands,
and the audit trail of everything they do. Models live in ``models.py``."""
