"""Outbound SMS: providers, the ledger outbox, failover dispatch, delivery reports and OTP.

Entry points for other packages: :func:`gateway.sms.outbox.record_message`,
:func:`gateway.sms.outbox.enqueue_messages`, :func:`gateway.sms.templates.render`,
:func:`gateway.sms.providers.sandbox_inbox`, and the blueprint in :mod:`gateway.sms.webhooks`.
"""
