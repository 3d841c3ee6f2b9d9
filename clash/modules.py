"""The product's modules, in start order (a module may use the ones before it)."""

from clash.ops.module import OpsModule

MODULES = [OpsModule]
