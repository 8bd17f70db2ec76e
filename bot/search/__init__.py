"""Full-text search over releases: tokenising (tokens), passages (corpus), the BM25 index (index)."""
