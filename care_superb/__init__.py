"""care-superb: CARE and speech-emotion tasks plugged into s3prl without forking it.

Importing this package registers every upstream of ``care_superb.upstream`` as an attribute of
``s3prl.hub`` and makes every task folder ``downstream/<task>/`` importable as
``s3prl.downstream.<task>``, which is all s3prl's runner looks at.
"""
from care_superb.plug import plug

__version__ = "0.1.0"

plug()
