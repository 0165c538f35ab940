"""Perturbations: image operators, prior shifts and cross-style transfer, registered by name."""
