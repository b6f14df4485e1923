"""The phone simulator at /simulator/: a phone in the browser for demos and browser tests."""
