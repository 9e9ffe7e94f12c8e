"""What a person or a script reads: numbers, tables, JSON, CSV, Markdown, plots.

Presentation only: every value comes from :mod:`cnncalc.analysis`, :mod:`cnncalc.answers` or
:mod:`cnncalc.proof`; nothing here counts.
"""
