"""The synthetic EmoDB: the exact layout, 16 kHz mono, deterministic, resumable."""
from __future__ import annotations

import json

import pytest
import soundfile as sf

from care_superb.downstream.emodb import corpus as emodb
from care_superb.synth import MARKER, is_synthetic, synthesize


def test_layout_format_and_marker(synth_root):
    root = synth_root("emodb")
    assert json.loads((root / MARKER).read_text())["layout"] == "emodb" and is_synthetic(root)
    files = sorted((root / "wav").glob("*.wav"))
    assert files and all(emodb.parse_name(p.name) for p in files)
    for path in files[::40]:
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert 1.0 < info.duration < 10.0


def test_emotions_differ_in_prosody(synth_root):
    """Anger is louder and faster than sadness for the same speaker and text."""
    root = synth_root("emodb")
    pairs = 0
    for angry in (root / "wav").glob("?????Wa.wav"):
        sad = angry.with_name(angry.name[:5] + "Ta.wav")
        if sad.exists():
            a, _ = sf.read(angry)
            s, _ = sf.read(sad)
            assert (a ** 2).mean() > 2 * (s ** 2).mean() and len(a) < len(s)
            pairs += 1
    assert pairs > 5


def test_same_seed_same_bytes_and_resume(tmp_path, synth_root):
    reference = synth_root("emodb")
    out = tmp_path / "emodb"
    synthesize("emodb", out, seed=0)
    # Interrupt: remove the marker and some files, as a killed run would leave it.
    (out / MARKER).unlink()
    settings = {"synthetic": True, "generator": "care-superb synth", "layout": "emodb", "seed": 0, "size": "demo"}
    (out / ".synth-in-progress").write_text(json.dumps(settings))
    removed = sorted((out / "wav").glob("1*.wav"))[:30]
    for path in removed:
        path.unlink()
    # a partial corpus of other settings is not resumed into a mix of two corpora
    with pytest.raises(FileExistsError, match="partial synthetic corpus made with"):
        synthesize("emodb", out, seed=1)
    synthesize("emodb", out, seed=0)
    assert is_synthetic(out)
    for path in sorted((reference / "wav").glob("*.wav")):
        assert (out / "wav" / path.name).read_bytes() == path.read_bytes(), path.name


def test_another_seed_gives_other_audio(tmp_path, synth_root):
    reference = synth_root("emodb")
    other = synthesize("emodb", tmp_path / "other", seed=1)
    names = {p.name for p in (reference / "wav").glob("*.wav")} & {p.name for p in (other / "wav").glob("*.wav")}
    assert any((reference / "wav" / n).read_bytes() != (other / "wav" / n).read_bytes() for n in names)
