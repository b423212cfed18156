"""``python -m nettwin`` runs the command line."""

from nettwin.cli.app import main

main()
