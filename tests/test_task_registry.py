"""The registry finds a task from its folder; a folder that is not a package is refused by name."""
from __future__ import annotations

import shutil

import pytest

from care_superb.downstream import registry

NAME = "toy_without_init"


@pytest.fixture
def folder():
    path = registry.FOLDER / NAME
    if path.exists():
        pytest.fail(f"{path} exists already; remove it (a previous run of this test was killed)")
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_a_task_folder_without_init_is_refused_saying_so(folder):
    (folder / "task.py").write_text("raise AssertionError('not imported before __init__.py is checked')\n")
    with pytest.raises(ImportError) as err:
        registry.discover()
    assert f"{folder} has a task.py but no __init__.py" in str(err.value)
    assert str(folder / "__init__.py") in str(err.value)


def test_every_task_is_found_with_emobox_among_them():
    tasks = registry.discover()
    assert {"emodb", "ravdess_song", "cafe", "emobox"} <= set(tasks)
    assert tasks["emobox"].classes is not None and tasks["emodb"].classes is None
