"""The ``vaxgate`` command line (``commands.main``) and what it starts: the launcher (and its
child processes, ``processes``), the dialer."""
