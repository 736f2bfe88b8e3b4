"""The plug: our tasks import as s3prl.downstream.<task> without shadowing s3prl's own, every
upstream name reaches s3prl.hub, and task folders register themselves."""
from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import s3prl.downstream
import s3prl.hub

import care_superb.downstream
from care_superb import plug
from care_superb.downstream.registry import TASKS
from care_superb.upstream import hub_entries
from care_superb.upstream.registry import hubconfs, table

plug()
OUR_DOWNSTREAM = Path(care_superb.downstream.__file__).parent
OUR_UPSTREAM = OUR_DOWNSTREAM.parent / "upstream"
UPSTREAM_DOCS = OUR_DOWNSTREAM.parent / "docs" / "upstreams.md"


def test_every_task_folder_is_a_task_and_imports_through_s3prl():
    folders = {p.parent.name for p in OUR_DOWNSTREAM.glob("*/task.py")}
    assert set(TASKS) == folders and {"emodb", "iemocap4", "iemocap6", "msp_improv"} <= folders
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


def test_every_name_of_every_hubconf_is_our_entry_in_s3prl_hub():
    folders = sorted(p.parent.name for p in OUR_UPSTREAM.glob("*/hubconf.py"))
    assert list(hubconfs()) == folders and {"care", "s3prl_local"} <= set(folders)
    entries = hub_entries()
    names = [name for f in folders for name in importlib.import_module(f"care_superb.upstream.{f}.hubconf").__all__]
    assert sorted(entries) == sorted(names) and {"care", "wavlm_local"} <= set(names)
    for name in names:
        assert getattr(s3prl.hub, name).__wrapped__ is entries[name].__wrapped__  # ours, not s3prl's


def test_the_docs_upstream_table_is_every_folders_listing():
    generated = table()
    assert generated in UPSTREAM_DOCS.read_text(), (
        "docs/upstreams.md's table under '# Upstreams' differs from the folders' LISTING: replace it with the output "
        "of `python -m care_superb.upstream.registry`")
    for name in hub_entries():
        assert f"`{name}`" in generated, f"{name} is in no hubconf's LISTING"


def test_synth_and_the_parsers_load_neither_torch_nor_s3prl(tmp_path):
    script = (
        "import sys\n"
        "from care_superb.cli import main\n"
        "from care_superb.synth import layout, layouts\n"
        "for name in layouts():\n"
        "    layout(name)\n"
        "    __import__(f'care_superb.downstream.{name}.corpus')\n"
        "try:\n"
        "    main(['synth', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('torch', 's3prl', 'transformers') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
