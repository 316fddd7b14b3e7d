"""The pages of the web app, one module each with its `router` (page and /api/… JSON twin)."""
