"""Developer tools for ember; not part of the installed package."""
