"""`python -m tutela` runs the CLI."""

from tutela.cli import main

main()
