"""The layer algebra: one module per family of kinds, everything about a kind in its class.

:mod:`base` holds :class:`~cnncalc.kinds.base.Kind` and the window geometry every sliding kind
shares; :mod:`conv`, :mod:`pool`, :mod:`dense`, :mod:`pointwise` and :mod:`joins` hold the kinds;
:mod:`registry` names them for the YAML. :mod:`arith`, :mod:`ops`, :mod:`formula` and
:mod:`backward` are the small pieces the kinds are written in. Imports nothing above it.
"""
