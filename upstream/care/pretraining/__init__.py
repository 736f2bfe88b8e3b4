"""CARE's pre-training recipe (Dutta & Ganapathy 2024), as ``care-superb pretrain``.

Data flows one way:

    inputs.py    a folder of audio / a manifest -> utterances (audio path, transcript source)
    asr.py       transcripts by ASR: transformers' Whisper or faster-whisper, local folders only
    targets.py   per-utterance targets: the text teacher's mean-pooled embedding (semantic) and
                 frame features at 50 Hz, normalised per utterance (acoustic: log-mel, eGeMAPS
                 LLDs, PASE+ frames)
    cache.py     targets computed once, stored atomically, keyed by content hash + settings
    recipe.py    what trains and on which loss: freezing, gradient isolation, the two losses
    trainer.py   the loop: 5 s crops, AdamW, validation, best/last checkpoints, exact resume
    cli.py       the command
"""
