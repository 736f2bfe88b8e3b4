"""The ``care-superb`` command: one subcommand per module in ``SUBCOMMANDS``.

Each module defines ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from care_superb.noise import silence_known_noise

SUBCOMMANDS = {
    "synth": "care_superb.synth.cli",
    "prepare": "care_superb.downstream.prepare_cli",
    "care-init": "care_superb.upstream.care.cli_init",
    "care-convert": "care_superb.upstream.care.cli_convert",
    "care-info": "care_superb.upstream.care.cli_info",
    "pretrain": "care_superb.upstream.care.pretraining.cli",
    "baseline-init": "care_superb.upstream.cli_baseline_init",
    "baseline-convert": "care_superb.upstream.hf_speech.cli_convert",
    "leaderboard": "care_superb.leaderboard.cli",
    "bench": "care_superb.benchmark.cli",
}


def refuse_existing(out, force: bool, exist_ok: bool) -> int | None:
    """The exit status when ``out`` exists and may not be overwritten (after saying why), else None."""
    if not out.exists() or force:
        return None
    if exist_ok:
        print(f"{out} exists; left as it is")
        return 0
    print(f"{out} exists; pass --force to overwrite it (or --exist-ok to keep it)")
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    silence_known_noise()
    parser = argparse.ArgumentParser(prog="care-superb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    # Only the subcommand asked for is imported (`synth` needs no torch); all of them for --help.
    chosen = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    modules = {}
    for name, module_name in SUBCOMMANDS.items():
        if chosen not in (None, name):
            sub.add_parser(name)
            continue
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    args = parser.parse_args(argv)
    return modules[args.command].run(args) or 0


if __name__ == "__main__":
    sys.exit(main())
