"""Package layout only; everything else is in setup.cfg.

The repository root mirrors s3prl's own package folder (``upstream/``, ``downstream/``,
``run_downstream.py``), so the top-level folders are mapped into the ``care_superb`` namespace
instead of being installed as generic top-level packages named ``upstream`` or ``downstream``.
"""
from setuptools import find_packages, setup

ROOTS = {
    "care_superb": "care_superb",
    "care_superb.upstream": "upstream",
    "care_superb.downstream": "downstream",
    "care_superb.benchmark": "benchmark",
    "care_superb.leaderboard": "leaderboard",
}

packages = []
for package, folder in ROOTS.items():
    packages += [package] + [f"{package}.{sub}" for sub in find_packages(folder)]

setup(package_dir=ROOTS, packages=packages)
