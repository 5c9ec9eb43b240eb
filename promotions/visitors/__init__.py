"""Per-visitor state: identity, recent items, prefetched values, segments, holdout, cache writes."""
