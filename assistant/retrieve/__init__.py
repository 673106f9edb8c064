"""Finding the papers for a question: hybrid ranking (BM25 and dense, fused) and coverage."""
