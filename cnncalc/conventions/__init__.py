"""Conventions: which counts a figure adds up, and with what weight.

:mod:`site` is one layer as a convention sees it; :mod:`quantities` every number a convention may
weigh (with the odd ones a peer tool counts); :mod:`engine` turns a table of weighted sums into
figures and working; :mod:`presets` is the list of conventions, cnncalc's own and each tool's.
"""
