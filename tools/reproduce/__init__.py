"""Scripts that reproduce published numbers and show end-to-end use of ember."""
