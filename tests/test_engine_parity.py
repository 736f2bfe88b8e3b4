"""Both engines train the same head: s3prl's Runner with the upstream's forward at every step,
and the cached engine (s3prl's Runner fed from the feature cache), seeded alike, start from the
same weights, draw the same batches, give the same logits after several optimizer steps, and
write rows of the same schema."""
from __future__ import annotations

import json

import pytest
import torch
import yaml
from torch.nn.utils.rnn import pad_sequence

from care_superb.benchmark import cached_engine
from care_superb.benchmark.cache import FileHashes, Store, Unit
from care_superb.benchmark.cells import absolute_paths
from care_superb.benchmark.extract import batches, extract, items_for
from care_superb.benchmark.spec import merge, task_config
from care_superb.downstream.expert import task_splits

STEPS = 12


def logits(runner, split: str):
    """The head's outputs on a split, batch by batch in the loader's order, and the keys."""
    outputs, keys = [], []
    for entry in runner.all_entries:
        entry.model.eval()
    with torch.no_grad():
        for wavs, _, batch_keys in runner.downstream.model.get_dataloader(split):
            wavs = [torch.FloatTensor(w) for w in wavs]
            features = runner.featurizer.model(wavs, runner.upstream.model(wavs))
            lengths = torch.tensor([len(f) for f in features])
            outputs.append(runner.downstream.model.head(pad_sequence(features, batch_first=True), lengths))
            keys += batch_keys
    return torch.cat(outputs), keys


@pytest.mark.parametrize("normalize", [False, True])
def test_cached_engine_matches_s3prl_runner_step_for_step(tmp_path, synth_root, random_checkpoint, normalize):
    from s3prl.downstream.runner import Runner

    root = synth_root("emodb")
    ckpt = str(random_checkpoint("care"))
    # Small batches of mixed lengths: s3prl keeps up to two padded frames of a shorter utterance,
    # which the cached engine must reproduce from the frame counts it stored.
    config = absolute_paths(merge(task_config("emodb"), {
        "runner": {"total_steps": STEPS, "eval_step": 4, "log_step": 4, "save_step": STEPS},
        "downstream_expert": {"datarc": {"root": str(root), "batch_size": 8}}}))
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))

    datarc = config["downstream_expert"]["datarc"]
    used = [u for split in task_splits("emodb", config["downstream_expert"]).splits.values() for u in split]
    hashes = FileHashes(tmp_path / "cache")
    unit = Unit("care_local", ckpt, None, normalize)
    items = items_for(used, datarc, hashes)
    store = Store(unit.folder(tmp_path / "cache", hashes))
    extract([(b, [(unit, str(store.folder), list(range(len(b))))]) for b in batches(items, 8)], 64, progress=False)

    def argv(engine):
        return cached_engine.train_argv("care_local", ckpt, None, "emodb", config_path, tmp_path / engine, 0,
                                        normalize, "cpu")

    # Seeded as run_downstream.py seeds; s3prl's runner then builds the upstream, which draws from
    # torch's global generator, and the cached engine does not: the seed alone must still give the
    # same head and, in train(), the same batches.
    args, conf = cached_engine.s3prl_args(argv("s3prl"))
    cached_engine.seed_everything(args.seed)
    reference = Runner(args, conf)
    args, conf = cached_engine.s3prl_args(argv("cached"))
    cached_engine.seed_everything(args.seed)
    CachedRunner = cached_engine._runner_class()
    cached = CachedRunner(args, conf, store, hashes, "test")
    initial = {k: v.clone() for k, v in reference.downstream.model.state_dict().items()}
    for name in ("featurizer", "downstream"):
        mine, theirs = getattr(cached, name).model.state_dict(), getattr(reference, name).model.state_dict()
        assert all(torch.equal(mine[key], theirs[key]) for key in theirs), name
    assert torch.allclose(*(logits(r, "test")[0] for r in (reference, cached)), atol=1e-4)

    reference.train()
    cached.train()

    moved = max((reference.downstream.model.state_dict()[k] - v).abs().max().item() for k, v in initial.items())
    assert moved > 1e-3  # the optimizer did change the head
    for name in ("featurizer", "downstream"):
        mine, theirs = getattr(cached, name).model.state_dict(), getattr(reference, name).model.state_dict()
        for key in theirs:
            assert torch.allclose(mine[key], theirs[key], atol=1e-4), (name, key)
    ours, keys = logits(cached, "test")
    theirs, their_keys = logits(reference, "test")
    assert keys == their_keys and len(keys) == 56
    assert torch.allclose(ours, theirs, atol=1e-4), (ours - theirs).abs().max()
    best = [json.loads((tmp_path / engine / "dev-best.json").read_text()) for engine in ("s3prl", "cached")]
    assert best[0]["step"] == best[1]["step"]  # dev-best picked at the same step

    # -m evaluate -e dev-best.ckpt, in both engines: rows of one schema, plus the engine's name.
    rows = {}
    for engine in ("s3prl", "cached"):
        best = tmp_path / engine / "dev-best.ckpt"
        args, conf = cached_engine.s3prl_args(["-m", "evaluate", "-e", str(best), "--device", "cpu"])
        runner = Runner(args, conf) if engine == "s3prl" else CachedRunner(args, conf, store, hashes, "test")
        runner.evaluate()
        rows[engine] = json.loads((tmp_path / engine / "result-test-dev-best.json").read_text())
    assert set(rows["s3prl"]) == set(rows["cached"])
    assert (rows["s3prl"]["engine"], rows["cached"]["engine"]) == ("s3prl", "cached")
    assert rows["cached"]["upstream"]["provenance"] == rows["s3prl"]["upstream"]["provenance"]
    assert rows["cached"]["upstream"]["normalize"] is normalize
    assert rows["cached"]["metrics"] == pytest.approx(rows["s3prl"]["metrics"], abs=1e-4)
    assert rows["cached"]["layer_weights"] == pytest.approx(rows["s3prl"]["layer_weights"], abs=1e-5)
    assert "benchmark" not in rows["cached"]  # only `care-superb bench` cells carry one
