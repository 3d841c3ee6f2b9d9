"""The product's modules, in start order (a module may use the ones before it)."""

from clash.auth import AuthModule
from clash.clones import ClonesModule
from clash.market import MarketModule
from clash.ops import OpsModule
from clash.prop import PropModule
from clash.runtime import Module
from clash.trading import TradingModule

MODULES: list[Module] = [
    OpsModule,
    AuthModule,
    MarketModule,
    ClonesModule,
    PropModule,
    TradingModule,
]
