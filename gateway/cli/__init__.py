"""The ``vaxgate`` command line (``commands.main``) and what it starts: the launcher, the dialer."""
