"""MSP-PODCAST (CARE's pre-training corpus): the release's layout parsed, the synthetic one in it."""
from __future__ import annotations

import pytest

from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.msp_podcast import corpus
from corpus_trees import tone


def test_release_layout_with_transcripts_labels_and_a_missing_transcript(tmp_path):
    for stem in ("MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0011", "MSP-PODCAST_0002_0001_0001"):
        tone(tmp_path / "Audios" / f"{stem}.wav")
    (tmp_path / "Transcripts").mkdir()
    (tmp_path / "Transcripts" / "MSP-PODCAST_0001_0008.txt").write_text("so what do you think\n")
    (tmp_path / "Transcripts" / "MSP-PODCAST_0002_0001_0001.txt").write_text("well okay\n")
    (tmp_path / "Labels").mkdir()
    (tmp_path / "Labels" / "labels_concensus.csv").write_text(  # the early releases' spelling
        "FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n"
        "MSP-PODCAST_0001_0008.wav,N,4.0,4.2,4.4,127,Female,Train\n")
    turns = corpus.prepare(tmp_path)
    assert [t.key for t in turns] == ["MSP-PODCAST_0001_0008", "MSP-PODCAST_0001_0011", "MSP-PODCAST_0002_0001_0001"]
    assert [t.transcript for t in turns] == ["so what do you think", None, "well okay"]
    assert (turns[0].speaker, turns[0].split) == ("127", "Train") and turns[1].speaker is None


def test_wrong_layouts_are_named(tmp_path):
    with pytest.raises(CorpusError, match="Audios"):
        corpus.prepare(tmp_path)
    tone(tmp_path / "Audios" / "episode1.wav")
    with pytest.raises(CorpusError, match="episode1.wav: not an MSP-PODCAST file name"):
        corpus.prepare(tmp_path)


def test_synthetic_msp_podcast_is_in_the_release_layout(synth_root):
    root = synth_root("msp_podcast")
    turns = corpus.prepare(root)
    assert len(turns) == 480 and all(t.transcript for t in turns)
    assert {t.split for t in turns} == {"Train", "Development", "Test1"}
    assert len({t.transcript for t in turns}) > 300  # many different sentences: the semantic target varies
    assert len({t.speaker for t in turns}) == 40


def labelled_turns(size: str):
    import random

    from care_superb.downstream.msp_podcast import synth

    plan = synth.plan(random.Random(0), size)
    labels = {row.split(",")[0][:-4]: row.split(",")[1]
              for row in plan.text_files["Labels/labels_consensus.csv"].splitlines()[1:]}
    return plan, [(labels[clip.path[len("Audios/"):-4]], clip) for clip in plan.clips]


@pytest.mark.parametrize("size", ["full", "full-blind"])
def test_synthetic_turns_say_what_their_prosody_says_unless_blind(size):
    """The semantic target carries the emotion only if the words do: most turns use their own
    emotion's words, and no emotion's words are another's; in the blind control none does."""
    from care_superb.downstream.msp_podcast import synth

    own = {letter: set(verbs) for letter, (verbs, _, _) in synth.WORDS.items()}
    assert all(not own[a] & own[b] for a in own for b in own if a < b)
    agree = {letter: [] for letter in own}
    for letter, clip in labelled_turns(size)[1]:
        agree[letter].append(any(verb in clip.text for verb in own[letter]))
    for letter, hits in agree.items():
        share = sum(hits) / len(hits)
        if size == "full":
            assert share >= (0.999 if letter == "N" else 0.7), f"{letter}: {share:.2f} of its turns use its words"
        else:
            assert share == (1.0 if letter == "N" else 0.0), f"{letter}: {share:.2f} of its turns use its words"


def test_the_blind_control_differs_from_its_twin_in_words_only():
    (plan, turns), (blind, blind_turns) = labelled_turns("demo"), labelled_turns("demo-blind")
    assert plan.text_files["Labels/labels_consensus.csv"] == blind.text_files["Labels/labels_consensus.csv"]
    assert [(c.path, c.speaker, c.emotion) for _, c in turns] == [(c.path, c.speaker, c.emotion) for _, c in blind_turns]
    assert sum(a.text != b.text for (_, a), (_, b) in zip(turns, blind_turns)) > len(turns) / 3


@pytest.mark.parametrize("version", [1, 2])
def test_a_synthetic_corpus_of_an_older_version_is_refused_not_reused(tmp_path, capsys, version):
    """Version 1 said words unrelated to the emotion; version 2 spoke with the task corpora's
    voices and words: reusing either would silently pre-train on it."""
    import json

    from care_superb.synth import MARKER, synthesize

    marker = {"synthetic": True, "generator": "care-superb synth", "layout": "msp_podcast", "seed": 0, "size": "demo"}
    (tmp_path / MARKER).write_text(json.dumps({**marker, **({"version": version} if version > 1 else {})}))
    with pytest.raises(FileExistsError, match=f"delete it.*made by version {version} of the layout.*shared with no task"):
        synthesize("msp_podcast", tmp_path)
    # the command says so in one line, no traceback
    from care_superb.cli import main

    assert main(["synth", "msp_podcast", "--out", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err and not list(tmp_path.glob("Audios/*"))
