"""DistillMOS (Stahl & Gamper, 2025), a compact speech-quality model, through its owners' PyPI
package ``distillmos`` (optional extra), which ships its weights: the worked example of the
README's "Adding a baseline".

hubconf.py  the names distillmos (the package's weights) and distillmos_local (-k FILE), what its
            files look like, random ones.
expert.py   s3prl's UpstreamExpert: the transformer's input and its 7 layers' outputs.
"""
