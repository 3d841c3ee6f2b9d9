"""The market actors: one per source, plus retention and the health snapshotter."""
