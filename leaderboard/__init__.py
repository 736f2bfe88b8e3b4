"""The leaderboard: the paper's tables and figures regenerated from result rows only.

rows (read and validate rows + prediction files) -> aggregate (cells: folds, then seeds) ->
stats (bootstrap intervals, paired randomisation tests) -> tables (Table II, III, IV) ->
render (Markdown, CSV, LaTeX) and figures (PNG, PDF); ``make`` runs them, ``cli`` is
``care-superb leaderboard``.
"""
