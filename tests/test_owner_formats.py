"""The owners' formats through s3prl's own wavlm_local / hubert_local / data2vec_local give the
same hidden states as the Hugging Face folder they were converted from (and the check fails when
the conversion is broken); the same files as the owners' trainers save them (omegaconf configs,
numpy numbers, optimizer state, fairseq's own HuBERT / data2vec checkpoints) read alike; anything
else in a pickle is refused by name and never run."""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import pickle
import shutil

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from transformers import AutoModel

import s3prl.hub as hub
from baseline_helpers import max_difference, perturb_, utterances
from care_superb.cli import main as cli
from care_superb.plug import plug
from care_superb.upstream import loaded_upstream
from care_superb.upstream.checkpoints import MARKER_KEY, UpstreamCheckpointError, load_payload
from care_superb.upstream.hf_speech.owner import folder_to_owner, owner_to_folder, parse_conv_spec
from owner_fixtures import fairseq_dictionary_class, fairseq_training_checkpoint, save

plug()  # our names, and s3prl's *_local wrapped, in s3prl.hub (as run_downstream.py does)
torch.set_num_threads(1)
OWNER = {"wavlm": "wavlm_local", "hubert": "hubert_local", "data2vec": "data2vec_local"}


@pytest.fixture(scope="module")
def converted(random_checkpoint, tmp_path_factory):
    """family -> (perturbed tiny HF folder, the owners' file converted from it)."""
    out = {}
    for family in OWNER:
        root = tmp_path_factory.mktemp(f"owner-{family}")
        folder = root / "hf"
        shutil.copytree(random_checkpoint(family), folder)
        perturb_(AutoModel.from_pretrained(folder), seed=2).save_pretrained(folder)
        out[family] = folder, folder_to_owner(folder, root / f"{family}.pt")
    return out


def states(name: str, ckpt, wav) -> list[torch.Tensor]:
    upstream = getattr(hub, name)(ckpt=str(ckpt)).eval()  # s3prl's runner sets eval mode too
    with torch.no_grad():
        return upstream([wav])["hidden_states"]


@pytest.mark.parametrize("family", sorted(OWNER))
def test_s3prl_loader_of_the_owners_format_matches_the_folder_layer_by_layer(converted, family):
    folder, owner_file = converted[family]
    for wav in utterances(1.0, 1.37, seed=3):
        ours = states("hf_speech", folder, wav)
        theirs = states(OWNER[family], owner_file, wav)
        assert len(ours) == len(theirs) == 4
        assert max(max_difference(ours, theirs)) < 1e-4, family


@pytest.mark.parametrize("family", sorted(OWNER))
def test_the_parity_check_fails_when_one_weight_is_off(converted, family, tmp_path):
    folder, owner_file = converted[family]
    payload = load_payload(owner_file)
    weights = payload["model"] if family == "wavlm" else payload["model_weight"]
    weights["encoder.layers.1.fc1.weight"] = weights["encoder.layers.1.fc1.weight"] + 0.01
    broken = tmp_path / "broken.pt"
    torch.save(payload, broken)
    wav = utterances(1.2)[0]
    diffs = max_difference(states("hf_speech", folder, wav), states(OWNER[family], broken, wav))
    # states 0 and 1 (inputs of layers 0 and 1) still agree; from layer 1's output on, they do not
    assert max(diffs[:2]) < 1e-4 and min(diffs[2:]) > 1e-4


@pytest.mark.parametrize("family", sorted(OWNER))
def test_round_trip_folder_to_owner_to_folder_is_exact(converted, family, tmp_path):
    folder, owner_file = converted[family]
    back = owner_to_folder(owner_file, tmp_path / "back")
    original, again = AutoModel.from_pretrained(folder).state_dict(), AutoModel.from_pretrained(back).state_dict()
    assert original.keys() == again.keys()
    assert all(torch.equal(original[k], again[k]) for k in original)
    assert (back / "preprocessor_config.json").read_text() == (folder / "preprocessor_config.json").read_text()


def test_a_missing_tensor_stops_both_directions(converted, tmp_path):
    folder, owner_file = converted["hubert"]
    payload = load_payload(owner_file)
    del payload["model_weight"]["encoder.layers.2.final_layer_norm.bias"]
    broken = tmp_path / "broken.pt"
    torch.save(payload, broken)
    with pytest.raises(UpstreamCheckpointError, match="missing: encoder.layers.2.final_layer_norm.bias"):
        owner_to_folder(broken, tmp_path / "out")
    with pytest.raises(RuntimeError, match="Missing key"):  # s3prl's own strict load
        hub.hubert_local(ckpt=str(broken))


def test_the_owner_files_say_how_they_were_made(converted):
    payload = load_payload(converted["hubert"][1])
    record = payload[MARKER_KEY]
    assert record["random_weights"] is True and record["family"] == "hubert"
    # HuBERT's pre-training heads have no transformers counterpart: zeros, and said so
    assert record["pretraining_only_zeroed"] == ["label_embs_concat", "final_proj.weight", "final_proj.bias"]
    assert not payload["model_weight"]["label_embs_concat"].any()
    assert load_payload(converted["data2vec"][1])["model_weight"]["_ema"] == {}


def test_s3prl_local_names_record_provenance_and_check_the_file(converted):
    _, owner_file = converted["wavlm"]
    hub.wavlm_local(ckpt=str(owner_file))
    provenance = loaded_upstream("wavlm_local")
    assert provenance["ckpt"] == str(owner_file) and provenance["random_weights"] is True
    with pytest.raises(UpstreamCheckpointError) as error:
        hub.wavlm_local(ckpt=str(converted["hubert"][1]))
    message = str(error.value)
    assert "expected Microsoft's WavLM checkpoint" in message and "found a HuBERT checkpoint" in message
    assert "-u hubert_local" in message


def test_convert_command_both_ways(converted, tmp_path, capsys):
    folder, _ = converted["data2vec"]
    assert cli(["baseline-convert", str(folder), str(tmp_path / "d2v.pt")]) == 0
    assert "-u data2vec_local -k" in capsys.readouterr().out
    assert cli(["baseline-convert", str(tmp_path / "d2v.pt"), str(tmp_path / "d2v-hf")]) == 0
    assert "-u hf_speech -k" in capsys.readouterr().out
    assert cli(["baseline-convert", str(folder), str(tmp_path / "d2v.pt")]) == 1  # exists: no --force


def test_fairseq_conv_layer_strings_are_parsed_without_eval():
    assert parse_conv_spec("[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] * 2") == (
        [(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2)
    with pytest.raises(ValueError, match="unsupported"):
        parse_conv_spec("__import__('os').system('true')")


# ---- the owners' files as their trainers save them ---------------------------------------------
def released(path) -> dict:
    return {"name": path.name, "bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def hf_speech_provenance(folder) -> dict:
    hub.hf_speech(ckpt=str(folder))
    return loaded_upstream("hf_speech")


def owners_payload(owner_file) -> dict:
    """Our converted file without our record: the owners' layout, as they release it."""
    payload = load_payload(owner_file)
    del payload[MARKER_KEY]
    return payload


def test_wavlm_in_a_training_checkpoint_with_omegaconf_numpy_and_optimizer_state(converted, tmp_path):
    folder, owner_file = converted["wavlm"]
    payload = owners_payload(owner_file)
    training = fairseq_training_checkpoint(payload["model"], {}, "wavlm")
    path = save({**training, "cfg": OmegaConf.create(payload["cfg"])}, tmp_path / "WavLM-Base.pt")
    with pytest.raises(pickle.UnpicklingError, match="omegaconf|argparse|numpy"):
        torch.load(path, weights_only=True)  # what s3prl's own torch.load alone does on torch >= 2.6
    wav = utterances(1.3, seed=3)[0]
    assert max(max_difference(states("hf_speech", folder, wav), states("wavlm_local", path, wav))) < 1e-4
    provenance = loaded_upstream("wavlm_local")
    assert provenance["weights"] == "released" and provenance["random_weights"] is False
    assert provenance["released_files"] == [released(path)]
    assert not {"last_optimizer_state", "optimizer_history", "extra_state"} & set(load_payload(path))
    back = owner_to_folder(path, tmp_path / "back")  # and to a Hugging Face folder, saying where from
    original, again = AutoModel.from_pretrained(folder).state_dict(), AutoModel.from_pretrained(back).state_dict()
    assert original.keys() == again.keys() and all(torch.equal(original[k], again[k]) for k in original)
    assert hf_speech_provenance(back)["released_files"] == [released(path)]


@pytest.mark.parametrize("family", ["hubert", "data2vec"])
def test_fairseqs_own_training_checkpoint_is_converted_without_fairseq(converted, family, tmp_path, capsys):
    folder, owner_file = converted[family]
    s3prl_layout = owners_payload(owner_file)
    name, task = {"hubert": ("hubert", "hubert_pretraining"), "data2vec": ("data2vec_audio", "audio_pretraining")}[family]
    cfg = {"_name": None, "common": {"seed": 1, "fp16": True},
           "task": {"_name": task, "data": "/checkpoint/librispeech", **s3prl_layout["task_cfg"]},
           "model": {"_name": name, **s3prl_layout["model_cfg"]}}
    model = dict(s3prl_layout["model_weight"])
    if family == "data2vec":  # the EMA teacher fairseq's data2vec keeps in its state dict
        model["_ema"] = {k: v.clone() for k, v in model.items() if k.startswith("encoder.layers.")}
    with fairseq_dictionary_class() as Dictionary:
        task_state = ({"dictionaries": [Dictionary(s3prl_layout["dictionaries_symbols"][0][4:])]}
                      if family == "hubert" else {})
        raw = save(fairseq_training_checkpoint(model, cfg, name, task_state), tmp_path / f"{family}_base.pt")

    with pytest.raises(UpstreamCheckpointError) as error:
        getattr(hub, OWNER[family])(ckpt=str(raw))
    out = raw.with_suffix(".converted.pt")
    assert f"fairseq's own" in str(error.value)
    assert f"care-superb baseline-convert {raw} {out}, then -u {OWNER[family]} -k {out}" in str(error.value)

    assert cli(["baseline-convert", str(raw), str(out)]) == 0
    assert f"-u {OWNER[family]} -k {out}" in capsys.readouterr().out
    written = load_payload(out)
    assert type(written["task_cfg"]) is dict and type(written["model_cfg"]) is dict  # s3prl asserts plain dicts
    if family == "hubert":
        assert written["dictionaries_symbols"] == s3prl_layout["dictionaries_symbols"]
    assert written[MARKER_KEY]["weights"] == "released" and written[MARKER_KEY]["released_files"] == [released(raw)]
    for wav in utterances(1.0, 1.37, seed=3):
        assert max(max_difference(states("hf_speech", folder, wav), states(OWNER[family], out, wav))) < 1e-4
    assert loaded_upstream(OWNER[family])["released_files"] == [released(raw)]


def test_what_the_owners_files_pickle_reads_back_exactly(tmp_path):
    cfg = OmegaConf.create({"model": {"_name": "hubert", "conv_feature_layers": "[(512,10,5)] * 2", "dropout": 0.1,
                                      "layer_norm_first": False, "labels": ["km", None, 3], "nested": [{"a": 1}]},
                            "task": {"normalize": True, "rate": "${model.dropout}"}})
    OmegaConf.set_struct(cfg, True)  # fairseq keeps its configs in struct mode
    content = {"cfg": cfg, "list": OmegaConf.create([1, "a"]), "args": argparse.Namespace(arch="hubert", lr=[5e-4]),
               "numbers": [np.float64(2.5), np.float32(1.5), np.int64(7), np.bool_(True), np.float16(0.5)],
               "arrays": [np.arange(3.0), np.arange(4, dtype=np.int32), np.array(["a", "bc"])]}
    back = load_payload(save(content, tmp_path / "owners.pt"))
    assert OmegaConf.to_container(back["cfg"]) == OmegaConf.to_container(cfg) and back["cfg"].task.rate == 0.1
    assert OmegaConf.is_struct(back["cfg"]) and list(back["list"]) == [1, "a"] and back["args"] == content["args"]
    assert all(type(a) is type(b) and a == b for a, b in zip(back["numbers"], content["numbers"]))
    assert all(a.dtype == b.dtype and (a == b).all() for a, b in zip(back["arrays"], content["arrays"]))


@dataclasses.dataclass
class ModelConfig:  # a structured omegaconf config: refers to this class, which is not allowed
    encoder_layers: int = 3


def test_anything_else_in_a_pickle_is_refused_by_name_and_never_run(converted, tmp_path):
    ran = tmp_path / "ran"

    class RunsCode:
        def __reduce__(self):
            return os.mkdir, (str(ran),)

    payload = owners_payload(converted["wavlm"][1])
    cases = {"runs-code.pt": ({**payload, "extra": RunsCode()}, f"{os.mkdir.__module__}.mkdir"),
             "structured.pt": ({**payload, "cfg": OmegaConf.structured(ModelConfig)}, f"{__name__}.ModelConfig"),
             "whole-model.pt": ({**payload, "module": torch.nn.Linear(2, 2)}, "torch.nn.modules.linear.Linear")}
    for file, (content, refused) in cases.items():
        path = save(content, tmp_path / file)
        with pytest.raises(UpstreamCheckpointError) as error:
            hub.wavlm_local(ckpt=str(path))
        assert str(path) in str(error.value) and refused in str(error.value), str(error.value)
        with pytest.raises(UpstreamCheckpointError, match=f"{path}: holds .*{refused}.* does not unpickle"):
            load_payload(path)
    assert not ran.exists()
