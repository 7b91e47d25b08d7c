"""An enterprise as its managers see it: GAP, co-GAPs and domains."""
