"""hwsim: a trace-driven, cycle-approximate simulator of a Bit Fusion-style accelerator.

Bit Fusion: Sharma et al., "Bit Fusion: Bit-Level Dynamically Composable Architecture for
Accelerating Deep Neural Networks", ISCA 2018. This package never imports torch.
"""

__version__ = "0.1.0"
