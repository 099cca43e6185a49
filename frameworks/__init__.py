"""Bundled frameworks, level scales (scales/) and crosswalks (crosswalks/) as YAML package data."""
