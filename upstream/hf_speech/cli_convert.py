"""``care-superb baseline-convert``: Hugging Face folder <-> the owners' WavLM / HuBERT / data2vec
checkpoint formats (which s3prl's own wavlm_local, hubert_local, data2vec_local read), and
fairseq's own HuBERT / data2vec checkpoints -> the converted layout s3prl reads."""
from __future__ import annotations

from pathlib import Path

HELP = ("convert between a Hugging Face WavLM/HuBERT/data2vec-audio folder and the owners' checkpoint "
        "that s3prl's wavlm_local/hubert_local/data2vec_local read (direction from what SOURCE is), or "
        "fairseq's own HuBERT/data2vec checkpoint to the layout s3prl reads")


def add_arguments(parser) -> None:
    parser.add_argument("source", help="a Hugging Face folder, an owners' .pt file, or fairseq's HuBERT/data2vec .pt")
    parser.add_argument("out", help="the .pt file to write (from a folder), or the folder to write (from a file)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing OUT")


def run(args) -> int:
    from care_superb.upstream.checkpoints import identify
    from care_superb.upstream.hf_speech.families import BY_MODEL_TYPE
    from care_superb.upstream.hf_speech.owner import folder_to_owner, owner_to_folder

    source, out = Path(args.source).expanduser(), Path(args.out).expanduser()
    if out.exists() and not args.force:
        print(f"{out} exists; pass --force to overwrite it")
        return 1
    command = f"care-superb baseline-convert {source} {out}"
    if source.is_dir():
        path = folder_to_owner(source, out, created_by=command)
        import json

        family = BY_MODEL_TYPE[json.loads((source / "config.json").read_text())["model_type"]]
        print(f"wrote {path}: read it with python run_downstream.py -u {family.owner_upstream} -k {path} ...")
    elif identify(source).read_after_convert:
        from care_superb.upstream.hf_speech.fairseq import fairseq_to_s3prl

        path = fairseq_to_s3prl(source, out, created_by=command)
        print(f"wrote {path}: read it with python run_downstream.py -u {identify(path).readers[0]} -k {path} ...")
    else:
        path = owner_to_folder(source, out, created_by=command)
        print(f"wrote {path}: read it with python run_downstream.py -u hf_speech -k {path} ...")
    return 0
