"""Market memory schema: numbered SQL files applied at boot (see clash.store.migrations)."""
