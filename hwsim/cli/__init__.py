"""Command line: one module per command; `hwsim.cli.main` parses and dispatches."""
