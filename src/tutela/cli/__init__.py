"""The command-line layer: parse options, call the core once, render, return an exit code."""
