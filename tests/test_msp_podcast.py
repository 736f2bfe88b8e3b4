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
