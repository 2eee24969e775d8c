"""Audit context: the append-only trail every mutation writes to, in the mutation's transaction."""
