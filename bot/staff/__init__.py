"""The staff console: hotline staff claim, read, answer and close cases."""
