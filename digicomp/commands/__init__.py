"""Subcommands of the ``digicomp`` command; each module defines ``register(subparsers)``.

A module's ``register`` adds its parser and sets ``run=function(args) -> exit code`` as a default.
"""
