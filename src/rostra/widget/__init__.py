"""The embeddable widget: its JavaScript sources, how they are built and served."""
