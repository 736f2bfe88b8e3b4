"""The leaderboard: the paper's tables and figures regenerated from result rows only.

rows (read and validate rows + prediction files) -> aggregate (cells: folds, then seeds) ->
stats (bootstrap intervals, paired randomisation tests) -> tables (Table II, III, IV) ->
render (Markdown, CSV, LaTeX), figures (PNG, PDF) and page (one self-contained ``index.html``
from ``templates/``, the same cell text as ``render``); ``make`` runs them, ``cli`` is
``care-superb leaderboard``.
"""
