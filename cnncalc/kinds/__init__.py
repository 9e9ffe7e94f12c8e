"""The layer algebra: one module per family of kinds, everything about a kind in its class.

:mod:`base` holds :class:`~cnncalc.kinds.base.Kind` and the window geometry every sliding kind
shares; :mod:`conv`, :mod:`pool`, :mod:`dense`, :mod:`pointwise` and :mod:`joins` hold the kinds;
:mod:`registry` names them for the YAML. :mod:`arith`, :mod:`ops`, :mod:`formula` and
:mod:`backward` are the small pieces the kinds are written in. Imports nothing above it.

The modules that define kinds do without ``from __future__ import annotations``: pydantic
reads the annotations of a model and of its bases when the class is made, and from strings
each is compiled and evaluated again, a third of the time the kinds take to load (issue 11:
start-up).
"""
