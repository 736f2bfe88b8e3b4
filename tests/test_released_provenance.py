"""A checkpoint in its owners' released format, without our record, says so in its provenance
(``weights: released``, each weight file's name, size and sha256), and its result rows are not
listed among those that do not say whether their upstream weights were trained. Each reader's own
test file checks its released files (test_hf_speech, test_owner_formats, test_emotion2vec,
test_sonar); here: the leaderboard's note, and the hash computed once per file version."""
from __future__ import annotations

import hashlib
import json
import os
import shutil

import pytest
import torch
from transformers import AutoModel

from care_superb.leaderboard.make import make_leaderboard
from care_superb.upstream import checkpoints, hub_entries, loaded_upstream
from leaderboard_rows import labels, predict, write_row

torch.set_num_threads(1)


def released_folder(random_checkpoint, folder):
    """A tiny HuBERT saved by transformers' save_pretrained, as its owners release it: no record."""
    source = random_checkpoint("hubert")
    AutoModel.from_pretrained(source).save_pretrained(folder)
    shutil.copy(source / "preprocessor_config.json", folder)
    return folder


def test_rows_of_a_released_checkpoint_are_not_under_the_unknown_weights_note(random_checkpoint, tmp_path):
    folder = released_folder(random_checkpoint, tmp_path / "hubert-base-ls960")
    hub_entries()["hf_speech"](ckpt=str(folder))
    released = loaded_upstream("hf_speech")  # what a result row records (downstream/expert.py)
    weights = folder / "model.safetensors"
    assert released["weights"] == "released" and released["random_weights"] is False
    assert released["released_files"] == [{"name": "model.safetensors", "bytes": weights.stat().st_size,
                                           "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]

    rows = tmp_path / "rows"
    y = labels(60, 7, seed=0)
    for name, provenance in (("hf_hubert", released), ("mystery", {"ckpt": "/x.pt", "random_weights": None})):
        row_file = write_row(rows / name, "emodb", name, y, predict(y, 0.6, 7, seed=1))
        row = json.loads(row_file.read_text())
        row["upstream"]["provenance"] = provenance
        row_file.write_text(json.dumps(row))
    markdown, _ = make_leaderboard([rows], tmp_path / "out")
    note = next(line for line in markdown.splitlines() if "do not say whether their upstream weights" in line)
    assert "mystery" in note and "hf_hubert" not in note


def test_a_files_hash_is_computed_once_per_process_and_again_when_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 1000)
    first = checkpoints.sha256_of(path)
    assert first == hashlib.sha256(b"a" * 1000).hexdigest()

    def no_reading(*args, **kwargs):
        raise AssertionError("read again")

    monkeypatch.setattr(checkpoints, "open", no_reading, raising=False)
    assert checkpoints.sha256_of(path) == first  # remembered: not read again
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    with pytest.raises(AssertionError, match="read again"):  # a new version of the file is hashed again
        checkpoints.sha256_of(path)
