"""hwsim: a trace-driven, cycle-approximate simulator of a Bit Fusion-style accelerator.

Bit Fusion: Sharma et al., "Bit Fusion: Bit-Level Dynamically Composable Architecture for
Accelerating Deep Neural Networks", ISCA 2018. This package never imports torch.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`hwsim.simulate` (the notebook API, `hwsim.api`) without importing it on `import hwsim`."""
    if name in ("simulate", "Result"):
        from hwsim import api

        return getattr(api, name)
    raise AttributeError(f"module 'hwsim' has no attribute {name!r}")
