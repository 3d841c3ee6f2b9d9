"""Clones: drafts and immutable versions of a pipeline graph, entitlements, public profiles, moderation.

    from clash.clones.module import ClonesModule          # the module and its public API
    from clash.clones.graph import Pipeline, decode_pipeline, validate
    from clash.clones.entitlements import check_entitlement, check_backtest

See docs/clones.md.
"""
