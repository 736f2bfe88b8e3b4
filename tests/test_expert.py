"""The shared expert on bad input: unknown labels, bad audio, a changed split."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from care_superb.downstream.audio import AudioError
from care_superb.downstream.corpus import CorpusError
from care_superb.downstream.emodb.expert import DownstreamExpert
from helpers import REPO


def conf(root, **datarc):
    block = yaml.safe_load((REPO / "downstream/emodb/config.yaml").read_text())["downstream_expert"]
    block["datarc"].update(root=str(root), **datarc)
    return block


def copy_corpus(synth_root, tmp_path):
    root = tmp_path / "emodb"
    shutil.copytree(synth_root("emodb"), root)
    return root


def test_builds_splits_and_records_them(synth_root, tmp_path):
    expert = DownstreamExpert(40, 160, conf(synth_root("emodb")), str(tmp_path / "exp"))
    written = json.loads((tmp_path / "exp" / "split.json").read_text())
    assert written["split_seed"] == 0 and set(written["utterances"]) == {"train", "dev", "test"}
    assert sorted(u.key for u in expert.splits["test"]) == written["utterances"]["test"]
    wavs, targets, keys = next(iter(expert.get_dataloader("dev")))
    assert len(wavs) == len(keys) == len(targets) and all(len(w) >= 16000 for w in wavs)


def test_a_changed_split_is_refused_in_the_same_experiment(synth_root, tmp_path):
    DownstreamExpert(40, 160, conf(synth_root("emodb")), str(tmp_path / "exp"))
    with pytest.raises(CorpusError, match="split.json records a different split"):
        DownstreamExpert(40, 160, conf(synth_root("emodb"), split_seed=1), str(tmp_path / "exp"))


def test_unknown_label_names_file_and_label_unless_mapped_or_dropped(synth_root, tmp_path):
    root = synth_root("emodb")
    # Map a class away: "boredom" is then an unknown label for a 6-class set ...
    with pytest.raises(CorpusError, match=r"wav/\d\d\w\d\dLa\.wav: label 'bored'") as err:
        DownstreamExpert(40, 160, conf(root, label_map={"boredom": "bored"}), str(tmp_path / "a"))
    assert "label_map" in str(err.value) and "drop_labels" in str(err.value)
    # ... mapped onto a known class it is accepted, dropped it disappears.
    mapped = DownstreamExpert(40, 160, conf(root, label_map={"boredom": "neutral"}), str(tmp_path / "b"))
    assert "boredom" not in {u.label for s in mapped.splits.values() for u in s}
    dropped = DownstreamExpert(40, 160, conf(root, drop_labels=["boredom"]), str(tmp_path / "c"))
    n_all = sum(len(s) for s in mapped.splits.values())
    assert sum(len(s) for s in dropped.splits.values()) == n_all - len(list((root / "wav").glob("*L?.wav")))


def test_bad_audio_stops_with_the_file_or_is_skipped_and_reported(synth_root, tmp_path):
    root = copy_corpus(synth_root, tmp_path)
    broken = sorted((root / "wav").glob("*.wav"))[5]
    broken.write_bytes(b"")
    with pytest.raises(AudioError, match=broken.name) as err:
        DownstreamExpert(40, 160, conf(root), str(tmp_path / "a"))
    assert "on_bad_audio: skip" in str(err.value)
    expert = DownstreamExpert(40, 160, conf(root, on_bad_audio="skip"), str(tmp_path / "b"))
    assert broken.stem not in {u.key for s in expert.splits.values() for u in s}
    skipped = json.loads((tmp_path / "b" / "skipped.json").read_text())
    assert skipped["counts"] == {"unusable audio": 1}
    (entry,) = skipped["excluded"]
    assert entry["key"] == broken.stem and broken.name in entry["detail"] and "empty" in entry["detail"]


def test_unknown_split_name(synth_root, tmp_path):
    expert = DownstreamExpert(40, 160, conf(synth_root("emodb")), str(tmp_path / "exp"))
    with pytest.raises(ValueError, match="unknown split 'valid'"):
        expert.get_dataloader("valid")


def test_the_seed_alone_sets_the_head_and_the_train_order(synth_root, tmp_path):
    """Not torch's global generator, which s3prl's runner advances by building the upstream and
    the cached engine does not: the same --seed gives the same head and batches either way."""
    import torch

    def drawn(seed: int, global_draws: int, name: str):
        torch.manual_seed(0)
        torch.randn(global_draws)  # what building an upstream would consume
        expert = DownstreamExpert(40, 160, conf(synth_root("emodb")), str(tmp_path / name), seed=seed)
        order = [keys for epoch in (0, 1) for _, _, keys in expert.get_dataloader("train", epoch=epoch)]
        return expert.head.state_dict(), order

    head, order = drawn(3, 0, "a")
    same_head, same_order = drawn(3, 12345, "b")
    other_head, other_order = drawn(4, 0, "c")
    assert all(torch.equal(head[k], same_head[k]) for k in head) and order == same_order
    assert not torch.equal(head["mlp.0.weight"], other_head["mlp.0.weight"]) and order != other_order
    assert order[0] != order[len(order) // 2]  # each epoch its own order


def test_dev_best_is_the_best_dev_score_and_a_tie_goes_to_the_lower_dev_loss(synth_root, tmp_path):
    class Logger:
        def add_scalar(self, *args, **kwargs):
            pass

    expert = DownstreamExpert(40, 160, conf(synth_root("emodb")), str(tmp_path / "exp"))
    keys = [u.key for u in expert.splits["dev"]]
    true = [i % 7 for i in range(len(keys))]

    def log(step, n_right, loss):
        pred = true[:n_right] + [(t + 1) % 7 for t in true[n_right:]]
        records = {"true": true, "pred": pred, "key": keys, "loss": [loss]}
        return expert.log_records("dev", records, Logger(), step, None, None)

    def best_step():
        return json.loads((tmp_path / "exp" / "dev-best.json").read_text())["step"]

    assert log(10, 20, 1.5) == ["dev-best.ckpt"]
    assert log(20, 20, 1.5) == [] and best_step() == 10  # a tie, no lower loss: the first stays
    assert log(30, 20, 1.2) == ["dev-best.ckpt"] and best_step() == 30  # a tie, lower loss
    assert log(40, 10, 0.1) == [] and best_step() == 30  # a lower loss never beats a higher score
    assert log(50, 30, 1.9) == ["dev-best.ckpt"] and best_step() == 50


def test_a_checkpoint_from_before_the_loss_tie_break_still_loads(synth_root, tmp_path):
    expert = DownstreamExpert(40, 160, conf(synth_root("emodb")), str(tmp_path / "exp"))
    old = {k: v for k, v in expert.state_dict().items() if k != "best_loss"}
    old["best_score"] = old["best_score"].float().fill_(0.5)  # as it was saved: float32
    expert.load_state_dict(old)  # strict, as s3prl's runner loads it
    assert expert.best_score.item() == 0.5 and expert.best_loss.item() == float("inf")
