"""Routes context: which deployments (provider + upstream model) serve a model alias, and how."""
