"""`python -m tutela` runs the CLI."""

from tutela.cli.app import main

main()
