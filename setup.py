"""Packaging glue: ship the top-level ``frameworks/`` and ``item_banks/`` folders as package data.

The project card fixes those folders at the top level of the repository; mapping them to
``digicomp.bundled.*`` lets ``importlib.resources`` find them in an installed wheel.
"""

from setuptools import find_packages, setup

BUNDLED = {
    "digicomp.bundled.frameworks": "frameworks",
    "digicomp.bundled.item_banks": "item_banks",
}

setup(
    packages=find_packages(include=["digicomp", "digicomp.*"]) + list(BUNDLED),
    package_dir=BUNDLED,
)
