from care_superb.downstream import splits
from care_superb.downstream.objectives import Classification
from care_superb.downstream.ravdess_song import corpus
from care_superb.downstream.registry import Task

TASK = Task("ravdess_song", corpus, lambda: Classification([corpus.EMOTIONS[c] for c in corpus.SONG_EMOTIONS]),
            splits.speaker_independent, "RAVDESS song, 6 emotions, singer-independent seeded splits")
