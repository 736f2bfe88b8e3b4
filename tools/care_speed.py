#!/usr/bin/env python
"""CARE's forward time relative to transformers' WavLMModel (base sizes, random weights).

Both models get the same 5 s utterance (batch 1) in the same process and return all their hidden
states (WavLM: 13 × 768; CARE: 13 × 1536, both branches). Runs alternate between the two models
and the median of each is reported, so that a busy machine slows both alike. One CPU thread by
default: on a small shared machine, multi-threaded timings mostly measure the other processes.

    python tools/care_speed.py [--seconds 5] [--repeats 7] [--threads 1] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from transformers import WavLMModel

from care_superb.upstream.care.config import CareConfig
from care_superb.upstream.care.model import CareModel, parameter_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    config = CareConfig.preset("base")
    care = CareModel(config).eval().to(args.device)
    wavlm = WavLMModel(config.speech).eval().to(args.device)
    wav = torch.randn(1, int(args.seconds * 16000), device=args.device)

    def care_forward():
        return care(wav).hidden_states("both")

    def wavlm_forward():
        return wavlm(wav, output_hidden_states=True).hidden_states

    def timed(forward) -> float:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        forward()
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        return time.perf_counter() - start

    times = {"care": [], "wavlm": []}
    with torch.inference_mode():
        care_forward(), wavlm_forward()  # warm-up
        for _ in range(args.repeats):
            times["wavlm"].append(timed(wavlm_forward))
            times["care"].append(timed(care_forward))
    care_s, wavlm_s = statistics.median(times["care"]), statistics.median(times["wavlm"])
    care_params = parameter_counts(care)["total"]
    wavlm_params = sum(p.numel() for p in wavlm.parameters())
    print(f"device {args.device}, {args.threads} threads, {args.seconds:g} s input, batch 1, "
          f"median of {args.repeats}")
    print(f"WavLMModel (base, {wavlm_params / 1e6:.1f}M params): {wavlm_s:.3f} s")
    print(f"CARE       (base, {care_params / 1e6:.1f}M params): {care_s:.3f} s")
    print(f"ratio CARE / WavLM: {care_s / wavlm_s:.2f}")


if __name__ == "__main__":
    main()
