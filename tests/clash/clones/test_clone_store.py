"""Clone tables: versions are immutable in the database itself, the provenance chain is checked,
and the module boots inside the runtime with its default catalog."""

import sqlite3

import msgspec
import pytest

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.clones.basic import BasicChoices
from clash.clones.catalog import StaticCatalog, perp
from clash.clones.module import ClonesModule
from clash.clones.service import CloneError
from clash.config import Secrets, load_config
from clash.runtime import boot
from clash.store import Database, discover_migrations

pytestmark = pytest.mark.anyio


@pytest.fixture
async def setup(tmp_path):
    clock = VirtualClock(EPOCH_2026)
    db = await Database.open(tmp_path / "clash.db")
    await db.migrate(discover_migrations(["clash.clones"]), now_ms=clock.now_ms())
    ClonesModule.register_checks(db)
    clones = ClonesModule(db, clock, StaticCatalog([perp("BTC"), perp("ETH")]))
    yield clones, db
    await db.close()


async def published_clone(clones: ClonesModule) -> int:
    clone = await clones.create_clone("ada", "Trend")
    await clones.save_basic(
        "ada", clone.id, BasicChoices(assets=["BTC"], prompt="Follow the trend.")
    )
    await clones.publish("ada", clone.id, "first")
    return clone.id


async def test_versions_cannot_be_updated_or_deleted_even_in_sql(setup):
    clones, db = setup
    clone_id = await published_clone(clones)
    for sql in ("UPDATE clone_versions SET note = 'rewritten'", "DELETE FROM clone_versions"):
        with pytest.raises(sqlite3.IntegrityError, match="clone versions are immutable"):
            async with db.transaction() as tx:
                await tx.execute(sql)
    assert (await clones.get_version("ada", clone_id, 1)).note == "first"
    assert (await db.check()).ok


async def test_the_invariant_check_catches_a_tampered_version(setup):
    clones, db = setup
    await published_clone(clones)
    async with db.transaction() as tx:
        await tx.execute("DROP TRIGGER clone_versions_immutable")
        await tx.execute("UPDATE clone_versions SET graph = replace(graph, 'Follow', 'Fade')")
    report = await db.check()
    assert report.problems == ["clones: clone 1 v1: content does not match its hash"]


async def test_a_fork_chain_verifies_across_clones(setup):
    clones, db = setup
    source = await published_clone(clones)
    fork = (await clones.fork("ada", source, version=1)).clone
    await clones.save_basic("ada", fork.id, BasicChoices(assets=["ETH"], prompt="Fade the trend."))
    v = await clones.publish("ada", fork.id)
    assert v.parent_hash == (await clones.get_version("ada", source, 1)).hash
    assert (await db.check()).ok


async def test_runtime_facing_reads(setup):
    clones, _ = setup
    clone_id = await published_clone(clones)
    latest = await clones.published_version(clone_id)
    assert latest.version == 1 and latest.model_strength == "light"
    assert (await clones.clone_tier(clone_id)).name == "Starter"
    assert await clones.clone_owner(clone_id) == "ada"
    empty = await clones.create_clone("bob", "Nothing yet")
    with pytest.raises(CloneError) as caught:
        await clones.published_version(empty.id)
    assert caught.value.code == "no_published_version"


async def test_the_module_boots_in_the_runtime_on_the_simulator_universe(tmp_path):
    config = load_config(environ={})
    config = msgspec.structs.replace(
        config, system=msgspec.structs.replace(config.system, data_dir=str(tmp_path / "var"))
    )
    clock = VirtualClock(EPOCH_2026)
    async with boot(config, Secrets(admin_token="t"), clock, [ClonesModule]) as rt:
        clones = rt.module(ClonesModule)
        await clock.advance(42)
        clone = await clones.create_clone("ada", "Booted")
        assert clone.created_at_ms == clock.now_ms()
        # config/default.toml enables BTC, ETH, SOL and HYPE in the simulator.
        with pytest.raises(CloneError) as caught:
            await clones.save_basic(
                "ada", clone.id, BasicChoices(category="Crypto/Layer 1", prompt="L1s.")
            )
        (problem,) = caught.value.detail
        assert problem.message == "4 active assets (BTC, ETH, SOL, HYPE); the Starter tier allows 3"
        with pytest.raises(CloneError) as caught:
            await clones.save_basic("ada", clone.id, BasicChoices(assets=["HYPE/USDC"], prompt="x"))
        assert caught.value.detail[0].code == "symbol_not_enabled"
        view = await clones.save_basic(
            "ada", clone.id, BasicChoices(assets=["BTC", "HYPE"], prompt="x")
        )
        assert view.active_assets == ["BTC", "HYPE"] and view.problems == []
        assert (await rt.db.check()).ok
