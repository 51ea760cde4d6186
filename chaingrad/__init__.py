"""The chaingrad command line: train a network, draw its graph, evaluate a saved model.

The library itself is the three packages ``autograd``, ``nn`` and ``optim``;
this package is only the application on top of them.
"""
