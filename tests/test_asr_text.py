"""asr_text: Whisper transcribes in the task's language, a BERT-family encoder reads the transcript;
token means at 50 Hz; transcripts cached by audio and by every setting that makes the text; the
Featurizer's shape probe answered without ASR; empty transcripts counted; bad input named. The
Whisper is the real tiny.en (packaged), run on a few short espeak-ng utterances."""
from __future__ import annotations

import json
import re
import warnings

import pytest
import torch

from helpers import ENGLISH_TASK
from whisper_helpers import english_only_generation, random_hf_whisper, speech
from care_superb.upstream.asr_text.hubconf import asr_text
from care_superb.upstream.asr_text.settings import SettingsError
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


@pytest.fixture
def transcribed(monkeypatch):
    """Each utterance the real Whisper transcribes: (asr, language it was told, decoding); and the
    keyword arguments faster-whisper's model was built with. Spies: both run as they would."""
    import faster_whisper

    from care_superb.upstream.care.pretraining import asr

    calls, built = [], []
    real_transcriber, real_model = asr.transcriber, faster_whisper.WhisperModel

    def transcriber(spec, language=None, device="cpu", decoding=None, threads=None):
        run = real_transcriber(spec, language, device, decoding, threads)
        return lambda audio: calls.append((spec, language, decoding)) or run(audio)

    def model(*args, **kwargs):
        built.append(kwargs)
        return real_model(*args, **kwargs)

    monkeypatch.setattr(asr, "transcriber", transcriber)
    monkeypatch.setattr(faster_whisper, "WhisperModel", model)
    return calls, built


def lines_of(path) -> list[dict]:
    return [json.loads(line) for line in open(path).read().splitlines()]


def test_transcribes_a_clearly_spoken_english_sentence_and_exposes_its_token_means():
    from care_superb.upstream.asr_text.text import minilm_folder

    upstream = asr_text(ckpt="minilm")
    upstream.use_task(ENGLISH_TASK)
    wav = speech(SENTENCE)
    with torch.no_grad():
        states = upstream([wav])["hidden_states"]
    heard = lines_of(upstream.provenance["transcripts"])[-1]["text"]
    assert words(heard) == words(SENTENCE), heard
    assert len(states) == 7 and all(s.shape == (1, round(len(wav) / 320), 384) for s in states)
    expected = token_means(minilm_folder(), heard)
    pooled = torch.stack([s[0].mean(0) for s in states])  # the paper's head: mean over frames
    assert torch.allclose(pooled, expected, atol=1e-5)
    assert upstream.provenance["random_weights"] is False  # released MiniLM, released tiny.en


def test_transcripts_are_cached_by_audio_and_settings_in_one_readable_file(transcribed):
    calls, _ = transcribed
    wavs = [speech("One."), speech("Two words.", seed=1)]
    first = asr_text(ckpt="minilm")
    first.use_task(ENGLISH_TASK)
    with torch.no_grad():
        first(wavs)
        first([wavs[0]])
    assert len(calls) == 2  # each audio once
    again = asr_text(ckpt="minilm")  # a new process would read the same file
    again.use_task(ENGLISH_TASK)
    with torch.no_grad():
        again(wavs)
    assert len(calls) == 2 and again.provenance["transcripts"] == first.provenance["transcripts"]
    header, *entries = lines_of(first.provenance["transcripts"])
    made = header["transcripts_of"]
    assert made == first.provenance["transcription"]
    assert (made["asr"], made["language"], made["backend"], made["task"]) == ("tiny.en", "en", "faster-whisper",
                                                                             "transcribe")
    assert {"faster-whisper", "ctranslate2"} <= set(made["code"]["libraries"]) and made["code"]["code_sha256"]
    assert [words(e["text"]) for e in entries] == [["one"], ["two", "words"]]
    with open(first.provenance["transcripts"], "a") as f:
        f.write('{"audio_sha256": "torn')  # a job killed mid-line
    third = asr_text(ckpt="minilm")
    third.use_task(ENGLISH_TASK)
    with torch.no_grad():
        third([speech("Three.", seed=2)])
    entries = [json.loads(line) for line in open(first.provenance["transcripts"]).read().splitlines()
               if not line.startswith('{"audio_sha256": "torn')]
    assert len(entries) == 4 and len(calls) == 3


def test_beam_size_or_compute_type_make_other_transcripts(transcribed, tmp_path):
    """Each setting that changes the text keys the transcripts: another file, transcribed again;
    float32 on the CPU unless int8 is asked for; faster-whisper gets the job's threads."""
    calls, built = transcribed
    wav = speech("Two words.", seed=1)
    made = {}
    for name, text in [("default", ""), ("beam", "beam_size: 1\n"), ("int8", "compute_type: int8\n"),
                       ("again", "")]:
        (tmp_path / f"{name}.yaml").write_text("asr: tiny.en\n" + text)
        upstream = asr_text(ckpt="minilm", model_config=str(tmp_path / f"{name}.yaml"))
        upstream.use_task(ENGLISH_TASK)
        with torch.no_grad():
            upstream([wav])
        made[name] = upstream.provenance
    paths = {name: p["transcripts"] for name, p in made.items()}
    assert len({paths["default"], paths["beam"], paths["int8"]}) == 3 and paths["again"] == paths["default"]
    assert len(calls) == 3  # the default's transcript served the fourth
    assert [c[2].beam_size for c in calls] == [5, 1, 5]
    assert [made[n]["transcription"]["beam_size"] for n in ("default", "beam")] == [5, 1]
    assert [made[n]["transcription"]["compute_type"] for n in ("default", "int8")] == ["float32", "int8"]
    assert [b["compute_type"] for b in built] == ["float32", "float32", "int8"]
    # the test's thread budget (1, or CI's 2: tests/conftest.py), not CTranslate2's default of 4
    assert all(b["cpu_threads"] == torch.get_num_threads() for b in built) and torch.get_num_threads() < 4
    for name in ("default", "beam", "int8"):  # each file says what made it
        assert lines_of(paths[name])[0]["transcripts_of"] == made[name]["transcription"]


def test_the_language_is_the_tasks_unless_the_settings_file_says_otherwise(transcribed, tmp_path):
    calls, _ = transcribed
    english = asr_text(ckpt="minilm")
    english.use_task(ENGLISH_TASK)
    with torch.no_grad():
        english([speech("One.")])
    assert calls[-1][:2] == ("tiny.en", "en")
    assert english.provenance["language"] == "en"
    assert english.provenance["language_source"] == f"task {ENGLISH_TASK} (its corpus's language)"

    for task, code in (("emodb", "de"), ("cafe", "fr")):  # tiny.en on a German or French corpus
        with pytest.raises(SettingsError, match=rf"task {task} .* language '{code}', but tiny.en is an English-only "
                                                r"Whisper .* e\.g\. base"):
            asr_text(ckpt="minilm").use_task(task)
    (tmp_path / "en.yaml").write_text("asr: tiny.en\nlanguage: en\n")  # said explicitly: English it is
    told = asr_text(ckpt="minilm", model_config=str(tmp_path / "en.yaml"))
    told.use_task("emodb")
    assert told.provenance["language"] == "en"
    assert told.provenance["language_source"] == f"-g {tmp_path / 'en.yaml'}, overriding task emodb's de"

    (tmp_path / "de.yaml").write_text("asr: base\nlanguage: de\n")
    german = asr_text(ckpt="minilm", model_config=str(tmp_path / "de.yaml"))
    german.use_task(ENGLISH_TASK)
    (tmp_path / "auto.yaml").write_text("asr: base\nlanguage: auto\n")
    detected = asr_text(ckpt="minilm", model_config=str(tmp_path / "auto.yaml"))
    detected.use_task(ENGLISH_TASK)
    assert german.provenance["language"] == "de" and "overriding task msp_improv's en" in \
        german.provenance["language_source"]
    assert detected.provenance["language"] == "auto (detected per utterance)"
    german._open_transcripts(), detected._open_transcripts()  # what they would read, without transcribing
    assert german.transcripts.header["transcripts_of"]["language"] == "de" and "-de-" in german.provenance["transcripts"]
    assert detected.transcripts.header["transcripts_of"]["language"] == "auto"
    assert german.provenance["transcripts"] != detected.provenance["transcripts"]  # a file per setting

    untold = asr_text(ckpt="minilm")  # no task (s3prl's own) and no language in -g
    untold.use_task("emotion")
    with pytest.raises(SettingsError, match="does not know the language to transcribe in"), torch.no_grad():
        untold([speech("One.")])
    (tmp_path / "tiny-auto.yaml").write_text("asr: tiny.en\nlanguage: auto\n")
    with pytest.raises(SettingsError, match=r"asks for detection \(auto\), but tiny.en is an English-only"):
        asr_text(ckpt="minilm", model_config=str(tmp_path / "tiny-auto.yaml"))


def test_bad_settings_files_are_named(tmp_path):
    cases = {
        "tiny-de.yaml": ("asr: tiny.en\nlanguage: de\n", r"tiny-de.yaml asks for language 'de', but tiny.en is an "
                                                        "English-only Whisper"),
        "typo.yaml": ("asr: tiny.en\nlanguge: de\n", r"typo.yaml: unknown key\(s\) languge"),
        "bad.yaml": ("language: german\n", "'german' is not one of Whisper's language codes"),
        "beam.yaml": ("beam_size: 0\n", r"beam.yaml: beam_size 0; expected a whole number >= 1"),
        "temps.yaml": ("temperatures: [0.0, 2.0]\n", r"temps.yaml: temperatures \[0.0, 2.0\]; expected a list"),
        "nowhere.yaml": ("asr: ../no/such/whisper\n", r"nowhere.yaml: asr .*no/such/whisper: expected a packaged"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message):
            asr_text(ckpt="minilm", model_config=str(tmp_path / name))


def test_the_featurizers_probe_loads_no_asr_and_caches_nothing(transcribed):
    """s3prl's Featurizer runs the upstream once on 1 s of random noise to learn its shapes: with
    every transcript cached, building the runner's upstream and Featurizer loads no Whisper."""
    from s3prl.upstream.interfaces import Featurizer

    calls, built = transcribed
    wav = speech("One.")
    filled = asr_text(ckpt="minilm")
    filled.use_task(ENGLISH_TASK)
    with torch.no_grad():
        filled([wav])
    before = open(filled.provenance["transcripts"]).read()
    assert len(calls) == len(built) == 1

    upstream = asr_text(ckpt="minilm")  # as s3prl's runner builds it: the task is told after the probe
    featurizer = Featurizer(upstream, feature_selection="hidden_states", upstream_device="cpu")
    assert (featurizer.layer_num, featurizer.output_dim, featurizer.downsample_rate) == (7, 384, 320)
    upstream.use_task(ENGLISH_TASK)
    with torch.no_grad():
        features = featurizer([wav], upstream([wav]))
    assert len(calls) == len(built) == 1 and upstream._transcribe is None  # no Whisper loaded, nothing transcribed
    assert open(filled.provenance["transcripts"]).read() == before  # no line for the noise
    assert upstream.provenance["empty_transcripts"]["utterances"] == 1  # the probe is not counted
    assert len(features) == 1 and features[0].shape == (round(len(wav) / 320), 384)


def test_empty_transcripts_are_counted_and_warned_about(transcribed):
    from care_superb.upstream.asr_text.expert import EMPTY_WARN_SHARE, MIN_HEARD, EmptyTranscriptsWarning

    calls, _ = transcribed
    silence, spoken = torch.zeros(32000), speech("One.")
    upstream = asr_text(ckpt="minilm")
    upstream.use_task(ENGLISH_TASK)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("error", EmptyTranscriptsWarning)  # none yet: too few heard
        upstream([silence, spoken])
    texts = [e["text"] for e in lines_of(upstream.provenance["transcripts"])[1:]]
    assert texts[0] == "" and texts[1]  # Whisper hears nothing in silence
    assert upstream.provenance["empty_transcripts"] == {"utterances": 2, "empty": 1, "share": 0.5,
                                                        "warn_above": EMPTY_WARN_SHARE}
    with torch.no_grad(), pytest.warns(EmptyTranscriptsWarning, match=rf"{MIN_HEARD - 1} of the {MIN_HEARD} "
                                                                      "transcripts heard so far are empty"):
        upstream([silence] * (MIN_HEARD - 2))  # served from the cache, counted all the same
    assert len(calls) == 2 and upstream.provenance["empty_transcripts"]["empty"] == MIN_HEARD - 1


def test_a_hugging_face_english_only_whisper_transcribes_with_transformers(tmp_path):
    """An English-only Hugging Face folder takes no language or task (transformers refuses them);
    the transformers backend decodes with the settings file's beam and temperatures."""
    folder = english_only_generation(random_hf_whisper(tmp_path / "whisper-en"), max_length=24)
    (tmp_path / "hf.yaml").write_text(f"asr: {folder}\nbeam_size: 2\ntemperatures: [0.0]\n")
    upstream = asr_text(ckpt="minilm", model_config=str(tmp_path / "hf.yaml"))
    upstream.use_task(ENGLISH_TASK)
    with torch.no_grad():
        upstream([speech("One.")])
    made = upstream.provenance["transcription"]
    assert (made["backend"], made["compute_type"], made["beam_size"], made["temperatures"]) == \
        ("transformers", "float32", 2, [0.0])
    assert len(lines_of(upstream.provenance["transcripts"])) == 2  # random weights: some text, transcribed
    for setting, message in (("vad: true", "vad: true needs faster-whisper"),
                             ("compute_type: int8", "compute_type 'int8': the transformers backend runs")):
        (tmp_path / "bad.yaml").write_text(f"asr: {folder}\n{setting}\n")
        refused = asr_text(ckpt="minilm", model_config=str(tmp_path / "bad.yaml"))
        refused.use_task(ENGLISH_TASK)
        with pytest.raises(SettingsError, match=message), torch.no_grad():
            refused([speech("One.")])


def test_every_task_states_its_corpus_language_as_whisper_codes_it():
    import types

    from transformers.models.whisper.tokenization_whisper import LANGUAGES

    from care_superb.downstream.corpus import CorpusError
    from care_superb.downstream.emobox import corpus as emobox
    from care_superb.downstream.registry import TASKS, Task

    languages = {name: task.language() for name, task in TASKS.items() if name != "emobox"}
    assert languages.pop("emodb") == "de" and languages.pop("cafe") == "fr"
    assert set(languages.values()) == {"en"} and {"meld", "iemocap4", "cmu_mosi", "ravdess_song"} <= set(languages)
    # EmoBox: each dataset's, from its table; a corpus of several languages is detected.
    by_dataset = {d: TASKS["emobox"].language({"dataset": d}) for d in emobox.language}
    assert (by_dataset["emodb"], by_dataset["cafe"], by_dataset["m3ed"], by_dataset["esd"]) == ("de", "fr", "zh", "auto")
    assert set(by_dataset.values()) - {"auto"} <= set(LANGUAGES)
    with pytest.raises(CorpusError, match="datarc.dataset None: not an EmoBox corpus"):
        TASKS["emobox"].language({})
    silent = types.ModuleType("silent")
    silent.__file__ = "downstream/silent/corpus.py"
    with pytest.raises(TypeError, match=r"downstream/silent/corpus.py must state LANGUAGE"):
        Task("silent", silent, None, None, "").language()


@pytest.mark.slow
def test_multilingual_base_transcribes_the_language_it_is_told_or_detects(transcribed, tmp_path):
    calls, _ = transcribed
    wav = speech("Guten Morgen, wie geht es dir?", "de")
    heard = {}
    for name, text in (("de", "language: de\n"), ("auto", "language: auto\n")):
        (tmp_path / f"{name}.yaml").write_text("asr: base\n" + text)
        upstream = asr_text(ckpt="minilm", model_config=str(tmp_path / f"{name}.yaml"))
        upstream.use_task(ENGLISH_TASK)  # the settings file overrides the task's en
        with torch.no_grad():
            upstream([wav])
        heard[name] = lines_of(upstream.provenance["transcripts"])[-1]["text"]
    assert [c[:2] for c in calls] == [("base", "de"), ("base", None)]  # auto: Whisper detects it
    for text in heard.values():
        assert {"guten", "morgen"} <= set(words(text)), heard


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
