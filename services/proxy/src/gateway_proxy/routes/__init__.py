"""HTTP routes of the proxy, one module per API area."""
