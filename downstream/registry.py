"""The tasks, one line each: which parser reads the corpus, what is predicted, which protocol
splits it. A task folder ``downstream/<name>/`` holds its ``config.yaml`` and a two-line
``expert.py`` naming its row here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from care_superb.downstream import splits
from care_superb.downstream.objectives import Classification, InterviewClassification, Regression


@dataclass(frozen=True)
class Task:
    name: str
    corpus: str  # module with prepare(root, **options) -> list[Utterance]
    objective: Callable[..., object]  # called with the config's downstream_expert.objective options
    protocol: Callable  # (utterances, datarc) -> (splits, description)
    description: str

    def parser(self):
        return importlib.import_module(self.corpus)


TASKS = {task.name: task for task in (
    Task("emodb", "care_superb.downstream.emodb.corpus",
         lambda: Classification(["anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"]),
         splits.speaker_independent, "EmoDB, 7 emotions, speaker-independent seeded splits"),
    Task("ravdess_song", "care_superb.downstream.ravdess_song.corpus",
         lambda: Classification(["neutral", "calm", "happy", "sad", "angry", "fearful"]),
         splits.speaker_independent, "RAVDESS song, 6 emotions, singer-independent seeded splits"),
    Task("cafe", "care_superb.downstream.cafe.corpus",
         lambda: Classification(["anger", "disgust", "happiness", "neutral", "fear", "surprise", "sadness"]),
         splits.speaker_independent, "CaFE (Canadian French), 7 emotions, speaker-independent seeded splits"),
    Task("meld", "care_superb.downstream.meld.corpus",
         lambda: Classification(["neutral", "joy", "sadness", "anger", "surprise", "fear", "disgust"]),
         splits.official, "MELD (Friends dialogue), 7 emotions, official train/dev/test"),
    Task("cmu_mosi", "care_superb.downstream.cmu_mosi.corpus",
         lambda: Classification(["negative", "positive"]),
         splits.official, "CMU-MOSI sentiment, negative (< 0) vs positive (>= 0), standard video split"),
    Task("iemocap4", "care_superb.downstream.iemocap4.corpus",
         lambda: Classification(["ang", "hap", "sad", "neu"]),
         splits.leave_one_session_out, "IEMOCAP, 4 classes (excited merged into happy), leave one session out"),
    Task("iemocap6", "care_superb.downstream.iemocap6.corpus",
         lambda: Classification(["ang", "hap", "sad", "neu", "exc", "fru"]),
         splits.leave_one_session_out, "IEMOCAP, 6 classes, leave one session out"),
    Task("daic_woz", "care_superb.downstream.daic_woz.corpus",
         lambda **options: InterviewClassification(["not_depressed", "depressed"], positive="depressed", **options),
         splits.segmented(splits.official_split_held_out_dev),
         "DAIC-WOZ depression, fixed-length participant segments, tested on the AVEC 2017 dev list"),
    Task("msp_improv", "care_superb.downstream.msp_improv.corpus",
         lambda: Regression(["valence", "arousal", "dominance"]),
         splits.speaker_folds, "MSP-IMPROV valence/arousal/dominance regression (CCC), folds by speaker"),
)}
