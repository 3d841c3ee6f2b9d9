"""AI trading: graph compiler, read plans, the effective context packet (seed 003 A–E)."""
