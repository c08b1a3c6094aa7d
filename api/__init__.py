"""api: the composition root, HTTP routes, pages and the command line."""
