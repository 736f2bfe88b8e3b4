"""Hugging Face speech encoders (WavLM, HuBERT, data2vec-audio, wav2vec2, ...) from local folders.

families.py  the paper's base baselines: their configs at base and tiny sizes, owners' settings.
expert.py    s3prl's UpstreamExpert for any transformers speech encoder folder.
random.py    a family with random weights, saved as a Hugging Face folder.
owner.py     Hugging Face folder <-> the owners' checkpoint formats that s3prl's own
             wavlm_local / hubert_local / data2vec_local read.
fairseq.py   fairseq's own HuBERT / data2vec checkpoints -> the layout s3prl reads, without fairseq.
hubconf.py   the names hf_speech, hf_wavlm, hf_hubert, hf_data2vec.
"""
