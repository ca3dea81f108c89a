"""Languages: registry, detection, text normalisation, catalogs, segments, checks."""
