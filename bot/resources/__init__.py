"""The resource directory: hotlines, shelters, legal aid and clinics near the texter."""
