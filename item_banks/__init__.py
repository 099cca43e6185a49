"""Bundled item banks as YAML package data (a package so importlib.resources finds it in editable installs)."""
