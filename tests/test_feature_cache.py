"""The feature cache: exact per-utterance pooled vectors, independent of the extraction batch,
shards that survive kills and corruption."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from torch.nn import functional as F

from care_superb.benchmark.cache import CacheError, FileHashes, Store, Unit, read_shard
from care_superb.benchmark.extract import Extractor, batches, extract, items_for
from care_superb.downstream.audio import load_audio
from care_superb.downstream.corpus import Utterance

AUDIO = {"sample_rate": 16000, "max_seconds": 20, "min_seconds": 1}


@pytest.fixture(scope="module")
def utterances(tmp_path_factory):
    """Noise files: two of 1.5 s (one batch), one of 2 s at 22.05 kHz (resampled), one of 0.5 s
    (padded to 1 s), and a 3 s file read as two segments."""
    folder = tmp_path_factory.mktemp("noise")
    rng = np.random.default_rng(0)
    made = []
    for name, seconds, rate in [("a", 1.5, 16000), ("b", 1.5, 16000), ("c", 2.0, 22050), ("d", 0.5, 16000),
                                ("long", 3.0, 16000)]:
        path = folder / f"{name}.wav"
        sf.write(path, (0.1 * rng.standard_normal(int(seconds * rate))).astype("float32"), rate)
        made.append(Utterance(name, path, "x", "s"))
    long = made.pop()
    made += [Utterance("long/0", long.path, "x", "s", start=0.0, end=1.25),
             Utterance("long/1", long.path, "x", "s", start=1.25, end=3.0)]
    return made


def fill(unit, folder, items, batch_size=8, shard_size=128):
    work = [(batch, [(unit, str(folder), list(range(len(batch))))]) for batch in batches(items, batch_size)]
    return extract(work, shard_size, progress=False)


def alone(extractor: Extractor, utt: Utterance, normalize: bool) -> torch.Tensor:
    """What s3prl's Featurizer + mean pooling give one utterance alone, layer by layer."""
    wav = torch.from_numpy(load_audio(utt.path, start=utt.start, end=utt.end, **AUDIO))
    states = extractor.states([wav])  # L x 1 x T x D
    if normalize:
        states = F.layer_norm(states, (states.shape[-1],))
    keep = min(round(len(wav) / extractor.rate), states.shape[2])
    return states[:, 0, :keep].mean(dim=1)


@pytest.mark.parametrize("normalize", [False, True])
def test_cached_vectors_are_each_utterance_alone_whatever_its_batch(tmp_path, utterances, random_checkpoint,
                                                                    normalize):
    # WavLM's first convolution is group-normalised over time (feat_extract_norm: group): padding
    # would change it, so a batch only ever holds utterances of one length.
    unit = Unit("hf_wavlm", str(random_checkpoint("wavlm")), None, normalize)
    hashes = FileHashes(tmp_path)
    items = items_for(utterances, AUDIO, hashes)
    assert [len(b) for b in batches(items, 8)] == [1, 1, 2, 1, 1]  # by length: d (padded to 1 s), long/0, a+b, ...
    fill(unit, tmp_path / "unit", items)
    table = Store(tmp_path / "unit").load([it.uid for it in items])
    extractor = Extractor(unit)
    for utt, item in zip(utterances, items):
        row = table.row[item.uid]
        expected = alone(extractor, utt, normalize)
        assert torch.allclose(table.pooled[row], expected, atol=1e-5), utt.key
        frames, kept, want, samples = table.counts[row].tolist()
        assert samples == item.samples == len(load_audio(utt.path, start=utt.start, end=utt.end, **AUDIO))
        assert want == round(samples / 320) and kept == min(want, frames)
    assert Store(tmp_path / "unit").meta["provenance"]["random_weights"] is True


def test_a_killed_or_corrupted_cache_is_detected_and_only_the_missing_part_redone(tmp_path, utterances, capsys):
    unit = Unit("fbank_no_cmvn", None, None, False)
    items = items_for(utterances, AUDIO, FileHashes(tmp_path))
    folder = tmp_path / "unit"
    fill(unit, folder, items, batch_size=1, shard_size=2)
    store = Store(folder)
    reference = store.load([it.uid for it in items])
    shards = store.shards()
    assert len(shards) == 3
    # What a kill leaves: a shard never written, one half-written under its temporary name; and a
    # shard truncated on disk.
    shards[0].unlink()
    (folder / f".{shards[1].name}.123.tmp").write_bytes(shards[1].read_bytes()[:100])
    shards[1].write_bytes(shards[1].read_bytes()[:-200])
    present = store.scan()
    out = capsys.readouterr().out
    assert "a shard a killed extraction left half-written" in out
    assert f"{shards[1]}: unreadable cache shard" in out and "will be extracted again" in out
    assert len(present) == 2 and not shards[1].exists()
    missing = [it for it in items if it.uid not in present]
    done = fill(unit, folder, missing, batch_size=1, shard_size=2)
    assert done[0]["utterances"] == 4  # only what was lost
    again = store.load([it.uid for it in items])
    assert torch.equal(again.pooled, reference.pooled) and torch.equal(again.counts, reference.counts)


def test_a_shard_whose_content_changed_fails_its_checksum(tmp_path, utterances):
    unit = Unit("fbank_no_cmvn", None, None, False)
    items = items_for(utterances[:2], AUDIO, FileHashes(tmp_path))
    fill(unit, tmp_path / "unit", items)
    shard = Store(tmp_path / "unit").shards()[0]
    payload = read_shard(shard)
    payload["pooled"][0, 0, 0] += 1.0
    torch.save(payload, shard)
    with pytest.raises(CacheError, match="fails its checksum"):
        Store(tmp_path / "unit").load([it.uid for it in items])
    assert Store(tmp_path / "unit").scan() == {}  # the next run redoes it


def test_the_key_follows_content_not_paths(tmp_path, utterances):
    """A moved corpus keeps its cache; a changed file, other audio settings or another checkpoint do not."""
    hashes = FileHashes(tmp_path)
    first = items_for(utterances[:1], AUDIO, hashes)[0]
    moved = tmp_path / "moved.wav"
    moved.write_bytes(utterances[0].path.read_bytes())
    assert items_for([Utterance("a", moved, "x", "s")], AUDIO, hashes)[0].uid == first.uid
    assert items_for(utterances[:1], {**AUDIO, "max_seconds": 1}, hashes)[0].uid != first.uid
    data, rate = sf.read(moved)
    sf.write(moved, data * 0.5, rate)
    assert items_for([Utterance("a", moved, "x", "s")], AUDIO, FileHashes(tmp_path))[0].uid != first.uid
    ckpt = tmp_path / "w.pt"
    ckpt.write_bytes(b"1")
    one = Unit("care_local", str(ckpt), None, False).folder(tmp_path, FileHashes(tmp_path))
    ckpt.write_bytes(b"2")
    assert Unit("care_local", str(ckpt), None, False).folder(tmp_path, FileHashes(tmp_path)) != one
    assert Unit("care_local", str(ckpt), None, True).folder(tmp_path, FileHashes(tmp_path)) != \
        Unit("care_local", str(ckpt), None, False).folder(tmp_path, FileHashes(tmp_path))


TOY_HUBCONF = """
from toy_upstream.expert import forward_scale


def toy_upstream(ckpt=None, **kwargs):
    return forward_scale
"""


def test_a_fix_to_the_upstreams_code_or_another_library_version_changes_the_key(tmp_path, monkeypatch):
    """The key holds the source of what the hub entry runs (followed through its imports) and the
    versions of the libraries it imports: a fixed forward never reuses the old vectors."""
    import importlib.metadata
    import sys

    import s3prl.hub

    from care_superb.benchmark import code_key
    from care_superb.plug import plug

    plug()
    package = tmp_path / "toy_upstream"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "hubconf.py").write_text(TOY_HUBCONF)
    (package / "expert.py").write_text("import torch\n\nforward_scale = 1.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from toy_upstream.hubconf import toy_upstream

    monkeypatch.setattr(s3prl.hub, "toy_upstream", toy_upstream, raising=False)

    def folder() -> str:
        code_key.code_key.cache_clear()
        return Unit("toy_upstream", None, None, False).folder(tmp_path, FileHashes(tmp_path)).name

    first = folder()
    assert folder() == first
    assert code_key.code_key("toy_upstream")["libraries"]["torch"] == importlib.metadata.version("torch")
    (package / "expert.py").write_text("import torch\n\nforward_scale = 2.0  # the fix\n")
    fixed = folder()
    assert fixed != first
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version", lambda d: "9.9" if d == "torch" else real(d))
    assert folder() not in (first, fixed)
    sys.modules.pop("toy_upstream.hubconf", None)
    code_key.code_key.cache_clear()


def test_the_key_covers_each_upstreams_forward_and_the_extraction():
    from care_superb.benchmark.code_key import EXTRACTION, code_closure, entry_modules

    for name, forward in [("care_local", "care_superb.upstream.care.model"),
                          ("hf_wavlm", "care_superb.upstream.hf_speech.expert"),
                          ("fbank_no_cmvn", "s3prl.upstream.baseline.extracter")]:
        files, libraries = code_closure([*entry_modules(name), *EXTRACTION])
        assert {forward, "care_superb.benchmark.extract", "care_superb.downstream.audio"} <= set(files), name
        assert {"torch", "torchaudio"} <= libraries and (name == "fbank_no_cmvn" or "transformers" in libraries), name


def test_equal_length_batches_are_what_keeps_s3prls_own_wavlm_batch_independent(tmp_path, utterances,
                                                                                 random_checkpoint):
    """s3prl's own wavlm_local batches with padding, and its group-normalised first convolution
    sees the padding: a padded batch changes a shorter utterance's vectors. The cache, batching
    equal lengths only, gives each utterance what it gets alone."""
    from care_superb.upstream.hf_speech.owner import folder_to_owner

    owner = folder_to_owner(random_checkpoint("wavlm"), tmp_path / "wavlm.pt")
    unit = Unit("wavlm_local", str(owner), None, False)
    items = items_for(utterances, AUDIO, FileHashes(tmp_path))
    fill(unit, tmp_path / "unit", items)
    table = Store(tmp_path / "unit").load([it.uid for it in items])
    extractor = Extractor(unit)
    a, c = utterances[0], utterances[2]  # 1.5 s and 2 s
    wavs = [torch.from_numpy(load_audio(u.path, **AUDIO)) for u in (a, c)]
    padded = extractor.states(wavs)[:, 0]  # a's states from a batch padded to c's length
    frames = extractor.states(wavs[:1]).shape[2]  # a's own frames
    assert (padded[:, :frames].mean(dim=1) - alone(extractor, a, False)).abs().max() > 1e-3
    for utt, item in zip(utterances, items):
        assert torch.allclose(table.pooled[table.row[item.uid]], alone(extractor, utt, False), atol=1e-5)
