"""Bottom layer: settings from the environment, the unit registry and the database engine.

This is the only package that reads the environment.
"""
