"""The paper's Whisper -> text baseline: Whisper transcribes, a BERT-family encoder encodes.

settings.py     what -g says: the Whisper that transcribes, its decoding, a language overriding the task's.
transcripts.py  transcripts cached by audio and by all that made them, one readable JSON-lines file per setting.
text.py         the text encoder: each layer's token mean.
expert.py       s3prl's UpstreamExpert: token means repeated over the utterance's 50 Hz frames.
random.py       a random BERT saved as a Hugging Face folder (tests, baseline-init).
hubconf.py      the name asr_text.
"""
