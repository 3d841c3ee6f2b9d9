"""The product's modules, in start order (a module may use the ones before it)."""

from clash.clones.module import ClonesModule
from clash.market.module import MarketModule
from clash.ops.module import OpsModule
from clash.prop.module import PropModule
from clash.trading.module import TradingModule

MODULES = [OpsModule, MarketModule, ClonesModule, PropModule, TradingModule]
