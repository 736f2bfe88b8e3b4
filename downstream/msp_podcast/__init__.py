"""MSP-PODCAST: CARE's pre-training corpus (corpus.py parses the release, synth.py writes a
synthetic one in the same layout)."""
