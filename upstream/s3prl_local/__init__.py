"""s3prl's own loaders of the owners' WavLM, HuBERT and data2vec files (``wavlm_local``,
``hubert_local``, ``data2vec_local``), registered like any other upstream folder.

hubconf.py  the three names: s3prl's functions, wrapped only to check the file first, to let them
            read what the owners' files pickle besides tensors (``owner_pickles.py``) and to
            record provenance; what those files look like; random ones through
            ``hf_speech/owner.py``'s conversion.
"""
