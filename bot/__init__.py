"""Newsdesk on Discord: a thin layer over the index package."""
