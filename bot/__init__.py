"""Lantern: the conversation pipeline, gateway and staff console."""
