"""USSD menus (YAML journeys) and the USSD channel: protocol, rendering, checks."""
