from care_superb.downstream.toycorpus.corpus import EMOTIONS, SPEAKERS
from care_superb.synth import Clip, Plan, speakers

SIZES = {"demo": 3}


def plan(rng, size):
    clips = []
    for speaker, voice in speakers(SPEAKERS, "en-us", rng).items():
        for emotion in (*EMOTIONS, "neutral"):  # neutral is in the corpus, not in the task
            for n in range(SIZES[size] if emotion != "neutral" else 1):
                clips.append(Clip(f"clips/{speaker}-{emotion}-{n}.wav", "The cat sat on the mat.", voice, emotion))
    return Plan(clips)
