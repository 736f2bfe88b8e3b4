"""The plug: our tasks import as s3prl.downstream.<task>, without shadowing s3prl's own."""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import care_superb  # noqa: F401
import s3prl.downstream
import s3prl.hub

from care_superb.downstream.registry import TASKS
from care_superb.upstream import HUBCONFS, hub_entries

OUR_DOWNSTREAM = Path(care_superb.downstream.__file__).parent


def test_every_task_imports_through_s3prl():
    for name in TASKS:
        expert = importlib.import_module(f"s3prl.downstream.{name}.expert")
        assert Path(expert.__file__).parent == OUR_DOWNSTREAM / name
        assert expert.DownstreamExpert.task == name
        assert (OUR_DOWNSTREAM / name / "config.yaml").is_file()


def test_our_task_folders_do_not_shadow_s3prl_tasks():
    s3prl_own = {m.name for m in pkgutil.iter_modules(s3prl.downstream.__path__[:1])}
    ours = {p.name for p in OUR_DOWNSTREAM.iterdir() if (p / "config.yaml").is_file()}
    assert ours == set(TASKS)
    assert not ours & s3prl_own


def test_every_upstream_is_an_attribute_of_s3prl_hub():
    entries = hub_entries()
    assert len(entries) >= len(HUBCONFS)
    for name in entries:
        assert callable(getattr(s3prl.hub, name))
