"""SONAR speech encoders (Duquenne et al., 2023) through sonar-space on fairseq2 (optional extra).

checkpoint.py  spenc.*.pt files: read with sonar-space's own loader, written (random weights) in
               the released layout at tiny and base sizes.
expert.py      s3prl's UpstreamExpert: the front end's output and every conformer layer's output.
hubconf.py     the name sonar_local.
"""
