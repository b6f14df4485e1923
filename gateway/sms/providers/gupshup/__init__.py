"""Gupshup Enterprise SMS (India): the transport and its delivery-report webhook, side by side.

Chosen for India because its HTTP API takes the DLT principal entity id and template id as
request parameters (docs/providers.md).
"""
from __future__ import annotations

from gateway.sms.providers.gupshup.transport import GupshupProvider

__all__ = ["GupshupProvider"]
