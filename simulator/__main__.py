"""``python -m simulator``: the ``jevons`` command line."""

from simulator.cli import main

main()
