"""HTTP inference server: FastAPI routes over a micro-batching queue and a hot-swappable model.

Layers, each in its own module: ``schemas`` (request/response models), ``batcher``
(the queue that forms model batches), ``registry`` (the current model and its
reload), ``auth``, ``metrics``, ``errors`` (error → status table), ``routes_*``
(thin handlers), ``app`` (``create_app``) and ``server`` (``framewatch serve``).
Only ``batcher`` and ``registry`` touch the predictor; none touches tensors.
"""
