"""Health context: the health service's verdict on each deployment, joined with control's names."""
