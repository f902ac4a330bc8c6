"""framewatch: a narrative-framing classifier for sentences of news text.

The shared core lives here: configuration, label schema, data loading, base-model
resolution, checkpoints and prediction. ``framewatch.training``,
``framewatch.serving`` and ``framewatch.evaluation`` build on it; nothing in the
core imports them.
"""

__version__ = "0.1.0"
