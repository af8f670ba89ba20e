"""The ops of the engine, one small :class:`~nerve.autograd.Function` per op.

Each op's docstring gives its formula and its local derivative; ``backward``
reads as local gradient × upstream gradient.
"""
