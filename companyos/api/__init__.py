"""API plumbing shared by every app: one error shape, pagination, the root of /api/."""
