"""CARE: Content and Acoustic Representations of Emotions (Dutta & Ganapathy), as an s3prl upstream.

config.py      CareConfig: every size of the model (presets ``tiny`` and ``base``).
model.py       CareModel: the model, top to bottom, from transformers' WavLM and BERT-family classes.
checkpoint.py  the CARE checkpoint format, the default checkpoint location, loading with checks.
initialise.py  a CARE from local Hugging Face folders (the paper's initialisation) or random.
convert.py     the authors' pickled pre-training checkpoints -> the CARE checkpoint format.
expert.py      s3prl's UpstreamExpert; hubconf.py: the names ``care``, ``care_acoustic``, ...
cli_*.py       the ``care-superb care-init | care-convert | care-info`` subcommands.
"""
