"""How a layer is laid onto the machine: loop nest, tiling search, systolic dataflows."""
