"""The `sucesso` verbs beyond the data ones in cli.py, one module per area (health, risk,
survival and forecasts, success factors…). Each module adds its commands to `sucesso.cli.app`
when imported; cli.py imports every module of this package at its end."""

import importlib
import pkgutil


def load_all() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
