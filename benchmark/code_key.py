"""What makes an upstream's cached features besides its checkpoint: code and library versions.

The source of every care_superb module the upstream's ``s3prl.hub`` entry can run, followed
through its imports (static, also those inside functions), with the extraction's own modules
(reading audio, pooling), and for s3prl's own names the files of the entry's folder; and the
versions of the installed libraries all those import (torch, transformers, s3prl, funasr, ...). Part of a cache unit's key: a fix to a forward, or another torch, makes a new cache folder
instead of reusing vectors the old code made.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import importlib.util
import inspect
from pathlib import Path

# The extraction's own code: reading and resampling audio, s3prl's feature selection and the pooling.
EXTRACTION = ("care_superb.benchmark.extract", "care_superb.downstream.audio")


def entry_modules(name: str) -> list[str]:
    """The modules defining ``s3prl.hub``'s entry ``name`` (through our wrappers and partials)."""
    from care_superb.plug import plug

    plug()
    import s3prl.hub

    found, todo = [], [getattr(s3prl.hub, name)]
    while todo:
        entry = inspect.unwrap(todo.pop())
        if isinstance(entry, functools.partial):  # s3prl's *_local, wrapped: the wrapper and s3prl's loader
            todo += [entry.func, *(a for a in entry.args if callable(a))]
        else:
            found.append(entry.__module__)
    return found


def _source(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec else None
    return Path(origin) if origin and origin.endswith(".py") else None


def _imports(module: str, path: Path) -> set[str]:
    """Absolute names of what ``module`` imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level \
                else node.module
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # ``from pkg import module``
    return names


def code_closure(roots: list[str]) -> tuple[dict[str, Path], set[str]]:
    """(module -> source file) of ``roots`` and of what they import in scope, and the top-level
    names of everything else they import. In scope: all of care_superb (the code this project
    changes), and of another package only the root's own folder (s3prl's ``upstream/baseline``
    for ``fbank_no_cmvn``): the rest of an installed library is its version."""
    scopes = {"care_superb."} | {root.rpartition(".")[0] + "." for root in roots if not root.startswith("care_superb.")}
    files: dict[str, Path] = {}
    outside: set[str] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        if module in files:
            continue
        if not any(f"{module}.".startswith(scope) for scope in scopes):
            outside.add(module.split(".")[0])
            continue
        path = _source(module)
        if path is None:  # ``from pkg import name`` where name is not a module
            continue
        files[module] = path
        todo += sorted(_imports(module, path))
    return files, outside


def library_versions(top_names: set[str]) -> dict[str, str]:
    """Installed distributions providing these import names, with their versions."""
    providers = importlib.metadata.packages_distributions()
    versions = {}
    for top in sorted(top_names):
        for dist in providers.get(top, ()):
            versions[dist] = importlib.metadata.version(dist)
    return versions


@functools.lru_cache(maxsize=None)
def code_key(name: str) -> dict:
    """``{"code_sha256", "modules", "libraries"}`` for the upstream ``-u name``'s features."""
    files, outside = code_closure([*entry_modules(name), *EXTRACTION])
    digest = hashlib.sha256()
    for module in sorted(files):
        digest.update(f"{module}\n".encode() + files[module].read_bytes())
    return {"code_sha256": digest.hexdigest(), "modules": len(files), "libraries": library_versions(outside)}
