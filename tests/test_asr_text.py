"""asr_text: Whisper transcribes, a BERT-family encoder reads the transcript; token means at 50 Hz,
transcripts cached by audio and model, the language from -g, bad input named."""
from __future__ import annotations

import json
import re

import pytest
import torch

from whisper_helpers import speech
from care_superb.upstream.asr_text.hubconf import asr_text
from care_superb.upstream.checkpoints import UpstreamCheckpointError

torch.set_num_threads(1)
SENTENCE = "I am so happy to see you today."


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def token_means(folder, text: str) -> torch.Tensor:
    """transformers on its own: every hidden state of the text, averaged over its tokens."""
    from transformers import AutoModel, AutoTokenizer

    tokenizer, model = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        states = model(**tokenizer([text], return_tensors="pt"), output_hidden_states=True).hidden_states
    return torch.stack([s[0].mean(0) for s in states])


def test_transcribes_a_clearly_spoken_english_sentence_and_exposes_its_token_means(tmp_path):
    from care_superb.upstream.asr_text.text import minilm_folder

    upstream = asr_text(ckpt="minilm")
    wav = speech(SENTENCE)
    with torch.no_grad():
        states = upstream([wav])["hidden_states"]
    lines = [json.loads(line) for line in open(upstream.provenance["transcripts"])]
    heard = lines[-1]["text"]
    assert words(heard) == words(SENTENCE), heard
    assert len(states) == 7 and all(s.shape == (1, round(len(wav) / 320), 384) for s in states)
    expected = token_means(minilm_folder(), heard)
    pooled = torch.stack([s[0].mean(0) for s in states])  # the paper's head: mean over frames
    assert torch.allclose(pooled, expected, atol=1e-5)
    assert upstream.provenance["random_weights"] is False  # released MiniLM, released tiny.en


def test_transcripts_are_cached_by_audio_and_model_in_one_readable_file(monkeypatch):
    from care_superb.upstream.care.pretraining import asr

    calls = []
    monkeypatch.setattr(asr, "transcriber", lambda spec, language=None, device="cpu": (
        lambda audio: calls.append(len(audio)) or f"words {len(audio)}"))
    wavs = [speech("One."), speech("Two words.", seed=1)]
    first = asr_text(ckpt="minilm")
    with torch.no_grad():
        first(wavs)
        first([wavs[0]])
    assert calls == [len(wavs[0]), len(wavs[1])]  # each audio once
    again = asr_text(ckpt="minilm")  # a new process would read the same file
    with torch.no_grad():
        again(wavs)
    assert len(calls) == 2 and again.provenance["transcripts"] == first.provenance["transcripts"]
    lines = open(first.provenance["transcripts"]).read().splitlines()
    header, entries = json.loads(lines[0]), [json.loads(line) for line in lines[1:]]
    assert header["transcripts_of"]["asr"] == "tiny.en" and header["transcripts_of"]["language"] == "en"  # .en: English
    assert [e["text"] for e in entries] == [f"words {len(w)}" for w in wavs]
    with open(first.provenance["transcripts"], "a") as f:
        f.write('{"audio_sha256": "torn')  # a job killed mid-line
    third = asr_text(ckpt="minilm")
    with torch.no_grad():
        third([speech("Three.", seed=2)])
    entries = [json.loads(line) for line in open(first.provenance["transcripts"]).read().splitlines()
               if not line.startswith('{"audio_sha256": "torn')]
    assert len(entries) == 4 and len(calls) == 3


def test_the_language_and_the_whisper_come_from_the_settings_file(monkeypatch, tmp_path):
    from care_superb.upstream.care.pretraining import asr

    seen = []
    monkeypatch.setattr(asr, "transcriber", lambda spec, language=None, device="cpu": (
        seen.append((spec, language)) or (lambda audio: "Guten Tag")))
    (tmp_path / "de.yaml").write_text("asr: base\nlanguage: de\n")
    german = asr_text(ckpt="minilm", model_config=str(tmp_path / "de.yaml"))
    (tmp_path / "base.yaml").write_text("asr: base\n")
    detected = asr_text(ckpt="minilm", model_config=str(tmp_path / "base.yaml"))
    with torch.no_grad():
        german([speech("Guten Tag.", "de")])
        detected([speech("Guten Tag.", "de")])
    assert seen == [("base", "de"), ("base", None)]
    assert german.provenance["language"] == "de" and german.provenance["settings_file"] == str(tmp_path / "de.yaml")
    assert detected.provenance["language"] == "detected per utterance"
    assert german.provenance["transcripts"] != detected.provenance["transcripts"]  # a file per setting
    assert "-de-" in german.provenance["transcripts"]

    (tmp_path / "tiny-de.yaml").write_text("asr: tiny.en\nlanguage: de\n")
    with pytest.raises(ValueError, match=r"tiny-de.yaml: language 'de', but tiny.en is an English-only Whisper"):
        asr_text(ckpt="minilm", model_config=str(tmp_path / "tiny-de.yaml"))
    (tmp_path / "typo.yaml").write_text("asr: tiny.en\nlanguge: de\n")
    with pytest.raises(ValueError, match=r"typo.yaml: unknown key\(s\) languge"):
        asr_text(ckpt="minilm", model_config=str(tmp_path / "typo.yaml"))
    (tmp_path / "bad.yaml").write_text("language: german\n")
    with pytest.raises(ValueError, match="'german' is not one of Whisper's language codes"):
        asr_text(ckpt="minilm", model_config=str(tmp_path / "bad.yaml"))
    (tmp_path / "nowhere.yaml").write_text("asr: ../no/such/whisper\n")
    with pytest.raises(ValueError, match=r"nowhere.yaml: asr .*no/such/whisper: expected a packaged Whisper"):
        asr_text(ckpt="minilm", model_config=str(tmp_path / "nowhere.yaml"))


@pytest.mark.slow
def test_multilingual_base_transcribes_german_when_told(tmp_path):
    (tmp_path / "de.yaml").write_text("asr: base\nlanguage: de\n")
    upstream = asr_text(ckpt="minilm", model_config=str(tmp_path / "de.yaml"))
    with torch.no_grad():
        upstream([speech("Guten Morgen, wie geht es dir?", "de")])
    heard = json.loads(open(upstream.provenance["transcripts"]).read().splitlines()[-1])["text"]
    assert {"guten", "morgen"} <= set(words(heard)), heard


def test_a_text_encoder_that_is_not_bert_family_is_refused_by_name(random_checkpoint):
    whisper_folder = random_checkpoint("whisper")
    with pytest.raises(UpstreamCheckpointError) as error:
        asr_text(ckpt=str(whisper_folder))
    message = str(error.value)
    assert str(whisper_folder / "config.json") in message and "model_type 'whisper'" in message
    assert "BERT-family text encoder" in message


def test_weights_are_random_when_either_part_is(random_checkpoint, tmp_path):
    from care_superb.upstream.asr_text.expert import _random_weights

    assert _random_weights({"random_weights": True}, {"random_weights": False}) is True
    assert _random_weights({"random_weights": False}, {"random_weights": False}) is False
    assert _random_weights({}, {"random_weights": False}) is None
    upstream = asr_text(ckpt=str(random_checkpoint("asr_text")))
    assert upstream.provenance["random_weights"] is True
    assert upstream.provenance["random_weights_of"] == {"text_encoder": True, "asr": False}
