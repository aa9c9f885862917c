"""kb: an evidence-weighted claims knowledge base."""

__version__ = "0.1.0"
