"""care-superb: CARE and speech-emotion tasks plugged into s3prl without forking it.

``care_superb.plug.plug()`` registers every upstream of ``care_superb.upstream`` as an attribute
of ``s3prl.hub`` and makes every task folder ``downstream/<task>/`` importable as
``s3prl.downstream.<task>``, which is all s3prl's runner looks at; ``run_downstream.py`` calls it.
Importing the package itself loads neither s3prl nor torch (``care-superb synth`` needs neither).
"""
from care_superb.plug import plug  # noqa: F401

__version__ = "0.1.0"
