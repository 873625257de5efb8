"""The events pipeline shared by both sources of raw events (the Export API's windows and a bucket's objects):
scratch directories and the disk budget, bounded ordered prefetch, gzip lines, conversion workers, progress lines."""
