"""Downstream tasks: corpora, the shared head, metrics and result rows.

Every folder here with a ``config.yaml`` is an s3prl task (``-d <folder>``): ``care_superb.plug``
appends this folder to ``s3prl.downstream.__path__``. The modules at this level are the one
implementation that every task configures through ``registry.TASKS``.
"""
