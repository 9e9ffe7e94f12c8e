"""cnncalc: shapes, parameters, operations and receptive fields of convolutional networks."""

__version__ = "0.1.0"
