"""Training as a product feature: model versions, the training pipeline and what serving loads.

``pipeline.train`` (run by the Celery task ``promotions.train_models``, by beat and by
``manage.py promotions_train``) builds the data from the event log (``data``), compares the
enabled models on recent-time validation windows, refits the best on all data and stores it as a
``ModelVersion``; ``versions.active_model()`` is what serving loads.
"""
