"""The plug: s3prl finds upstreams as attributes of ``s3prl.hub`` and tasks as
``s3prl.downstream.<task>.expert``; both can be extended from outside."""
from __future__ import annotations

import os

_PLUGGED = False


def plug() -> None:
    """Register our upstreams in ``s3prl.hub`` and our task folders in ``s3prl.downstream``."""
    global _PLUGGED
    if _PLUGGED:
        return
    import argparse

    import s3prl.downstream
    import s3prl.hub
    import torch
    from s3prl.downstream.runner import Runner

    import care_superb.downstream as our_downstream
    from care_superb.upstream import hub_entries

    for name, entry in hub_entries().items():
        setattr(s3prl.hub, name, entry)

    folder = os.path.dirname(os.path.abspath(our_downstream.__file__))
    # Appended, not prepended: s3prl's own tasks keep their names (a test checks we shadow none).
    if folder not in s3prl.downstream.__path__:
        s3prl.downstream.__path__.append(folder)
    Runner._get_downstream = _telling_the_upstream_its_task(Runner._get_downstream)
    # s3prl stores its argparse.Namespace in every checkpoint; torch >= 2.6 loads with
    # weights_only=True by default and would refuse `-e EXP/dev-best.ckpt` without this.
    torch.serialization.add_safe_globals([argparse.Namespace])
    # s3prl's -o adds any key it is given; a misspelt one would silently not apply. Checked first
    # (only for this project's tasks; a valid -o is applied by s3prl's own override, unchanged).
    import s3prl.run_downstream

    from care_superb.downstream.config_keys import checking

    if not getattr(s3prl.run_downstream.override, "checks_keys", False):
        s3prl.run_downstream.override = checking(s3prl.run_downstream.override)
    _PLUGGED = True


def _telling_the_upstream_its_task(get_downstream):
    """s3prl's runner builds the upstream knowing only ``-u -k -g``; an upstream whose features
    depend on the task (asr_text transcribes in the task's language) is told it here, once the
    downstream is built and before any utterance is read (the Featurizer's probe reads none)."""
    import functools

    @functools.wraps(get_downstream)
    def build(self):
        entry = get_downstream(self)
        upstream = getattr(self.upstream.model, "module", self.upstream.model)  # DDP wraps a trained one
        use_task = getattr(upstream, "use_task", None)
        if callable(use_task):
            use_task(self.args.downstream, self.config.get("downstream_expert", {}).get("datarc"))
        return entry

    return build
