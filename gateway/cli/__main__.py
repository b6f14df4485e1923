"""``python -m gateway.cli``: the same as the ``vaxgate`` command."""
from gateway.cli.commands import main

main()
