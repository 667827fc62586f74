"""Archive PDFs: one child, and batches in the background (routes)."""
