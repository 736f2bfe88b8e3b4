"""IEMOCAP for the 6-class task: the same corpus and parser as ``iemocap4`` (see
``downstream/iemocap4/corpus.py``); the tasks differ only in their config."""
from care_superb.downstream.iemocap4.corpus import prepare  # noqa: F401
