"""emotion2vec (Ma et al., 2024) through funasr's own ``Emotion2vec`` model class (optional extra).

release.py  the owners' release folder (config.yaml, configuration.json, the weight file it names):
            reading it into funasr's model, writing one (random weights) at tiny and base sizes.
expert.py   s3prl's UpstreamExpert: the block input and every transformer block's output.
hubconf.py  the name emotion2vec_local.
"""
