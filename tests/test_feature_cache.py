"""The feature cache: exact per-utterance pooled vectors, independent of the extraction batch,
shards that survive kills and corruption."""
from __future__ import annotations

import json

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


@pytest.mark.parametrize("name,family,normalize", [("hf_wavlm", "wavlm", False), ("hf_wavlm", "wavlm", True),
                                                   ("care_local", "care", False), ("fbank_no_cmvn", None, False)])
def test_cached_vectors_from_padded_batches_are_each_utterance_alone(tmp_path, utterances, random_checkpoint, name,
                                                                   family, normalize):
    # WavLM's and CARE's first convolution is group-normalised over time: their forwards run that
    # layer per length, so that a padded batch still gives each utterance what it gets alone.
    unit = Unit(name, str(random_checkpoint(family)) if family else None, None, normalize)
    hashes = FileHashes(tmp_path)
    items = items_for(utterances, AUDIO, hashes)
    planned = batches(items, 4)
    assert [len(b) for b in planned] == [4, 2]  # by length: d (padded to 1 s), long/0, a, b | long/1, c
    assert [it.samples for b in planned for it in b] == sorted(it.samples for it in items)
    done = fill(unit, tmp_path / "padded", items, batch_size=4)
    assert done[0]["forwards"] == 2 and done[0]["utterances"] == 6
    fill(unit, tmp_path / "one", items, batch_size=1)
    padded = Store(tmp_path / "padded").load([it.uid for it in items])
    one = Store(tmp_path / "one").load([it.uid for it in items])
    assert torch.equal(padded.counts, one.counts)
    assert torch.allclose(padded.pooled, one.pooled, atol=1e-5), (padded.pooled - one.pooled).abs().max()
    extractor = Extractor(unit)
    for utt, item in zip(utterances, items):
        row = padded.row[item.uid]
        assert torch.allclose(padded.pooled[row], alone(extractor, utt, normalize), atol=1e-5), utt.key
        frames, kept, want, samples = padded.counts[row].tolist()
        wav = load_audio(utt.path, start=utt.start, end=utt.end, **AUDIO)
        assert samples == item.samples == len(wav)
        assert frames == extractor.states([torch.from_numpy(wav)]).shape[2]
        assert want == round(samples / extractor.rate) and kept == min(want, frames)
    if family:
        assert Store(tmp_path / "padded").meta["provenance"]["random_weights"] is True


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


def test_extraction_refuses_an_upstream_whose_padded_batch_is_not_each_utterance_alone(tmp_path, utterances,
                                                                                      random_checkpoint):
    """s3prl's own wavlm_local runs the padding through its GroupNorm (tests/test_upstream_contract.py
    shows it): no cache can give what s3prl's runner gives it, which depends on the batch."""
    from care_superb.upstream.hf_speech.owner import folder_to_owner

    owner = folder_to_owner(random_checkpoint("wavlm"), tmp_path / "wavlm.pt")
    unit = Unit("wavlm_local", str(owner), None, False)
    with pytest.raises(CacheError, match="upstream wavlm_local gives an utterance of a padded batch other features"):
        fill(unit, tmp_path / "unit", items_for(utterances, AUDIO, FileHashes(tmp_path)))
    assert not list((tmp_path / "unit").glob("shard-*"))


def test_a_cell_reads_the_index_and_only_its_shards_checksumming_none(tmp_path, utterances, monkeypatch):
    """``scan`` (once per bench run) checks every shard and writes the index; loading a cell's
    features then opens only the shards holding them, and a shard changed since is an error."""
    from care_superb.benchmark import cache

    unit = Unit("fbank_no_cmvn", None, None, False)
    items = items_for(utterances, AUDIO, FileHashes(tmp_path))
    fill(unit, tmp_path / "unit", items, batch_size=1, shard_size=2)
    store = Store(tmp_path / "unit")
    checked = []
    real = cache._checksum
    monkeypatch.setattr(cache, "_checksum", lambda *a: checked.append(1) or real(*a))
    present = store.scan()
    assert len(checked) == 3 and (tmp_path / "unit" / "index.json").is_file()
    assert len(store.scan(verified={p.name for p in present.values()})) == 6 and len(checked) == 3

    opened = []
    read = cache.read_shard
    monkeypatch.setattr(cache, "read_shard", lambda path, verify=True: opened.append((path, verify)) or read(path, verify))
    first = items[:2]
    table = store.load([it.uid for it in first])
    assert len(checked) == 3 and {p for p, _ in opened} == {present[it.uid] for it in first}
    assert not any(verify for _, verify in opened)
    reference = Store(tmp_path / "unit")
    (tmp_path / "unit" / "index.json").unlink()  # without the index: every shard's list read, the used ones checked
    assert torch.equal(reference.load([it.uid for it in first]).pooled, table.pooled) and len(checked) > 3

    store.scan()
    shard = present[items[0].uid]
    shard.write_bytes(shard.read_bytes()[:-100])
    with pytest.raises(CacheError, match="changed or went missing since the cache was checked.*bench` again"):
        store.load([it.uid for it in first])


def test_a_job_reports_its_utterances_as_it_goes_not_only_when_a_shard_is_written(tmp_path, utterances, monkeypatch):
    # The parent's bar read finished shards only: 0 for minutes while the jobs' own bars moved.
    from care_superb.benchmark import extract as extract_mod

    units = [Unit("fbank_no_cmvn", None, None, False), Unit("fbank_no_cmvn", None, None, True)]
    items = items_for(utterances, AUDIO, FileHashes(tmp_path))
    work = [(batch, [(unit, str(tmp_path / f"cache{i}"), list(range(len(batch)))) for i, unit in enumerate(units)])
            for batch in batches(items, 2)]
    seen = []  # (count written, shards on disk then)
    written = extract_mod.write_atomic_text

    def spy(path, text):
        seen.append((int(text), len(list(tmp_path.glob("cache*/shard-*.pt")))))
        written(path, text)

    monkeypatch.setattr(extract_mod, "write_atomic_text", spy)
    reports = tmp_path / "reports"
    extract(work, 128, progress=False, report=extract_mod.Report(reports / "job-a.txt", every_s=0))
    total = 2 * len(items)  # each utterance once per unit that lacked it, as the bar's total counts
    assert [count for count, _ in seen] == list(range(2, total + 1, 2)) + [total]  # after each unit's batch
    assert [count for count, shards in seen if shards == 0][-1] == total  # all counted before the shards
    (reports / "job-b.txt").write_text("5")  # another job's
    assert extract_mod.reported(reports) == total + 5
    assert extract_mod.reported(tmp_path / "none yet") == 0


def test_asr_text_is_cached_per_task_language_and_built_told_it(tmp_path, utterances):
    """asr_text's features depend on the language its Whisper transcribes in, the task's: one cache
    folder per language, and extraction builds it told the language (no other upstream's key
    changes). Its transcripts are kept beside the vectors, and the unit's record says how they
    were made."""
    from care_superb.upstream.asr_text.settings import SettingsError
    from care_superb.upstream.asr_text.text import minilm_folder

    minilm, hashes = str(minilm_folder()), FileHashes(tmp_path)
    english, german = (Unit("asr_text", minilm, None, False, language) for language in ("en", "de"))
    assert english.folder(tmp_path, hashes) != german.folder(tmp_path, hashes)
    assert english.key(hashes)["language"] == "en" and "language" not in Unit("fbank_no_cmvn", None, None, False).key(hashes)
    built = Extractor(english)
    assert built.upstream.provenance["language"] == "en"
    assert built.upstream._transcribe is None  # its Featurizer's probe loaded no Whisper
    with pytest.raises(SettingsError, match=r"language 'de', but tiny.en is an English-only Whisper"):
        Extractor(german)

    items = items_for(utterances[:2], AUDIO, hashes)
    fill(english, tmp_path / "en", items)
    store = Store(tmp_path / "en")
    store.scan()
    table = store.load([it.uid for it in items])
    transcripts_file = store.meta["provenance"]["transcripts"]
    heard = {json.loads(line)["text"] for line in open(transcripts_file).read().splitlines()[1:]}
    assert len(table.transcripts) == 2 and set(table.transcripts) <= heard  # what Whisper made of the noise
    assert store.meta["provenance"]["transcription"]["language"] == "en"
