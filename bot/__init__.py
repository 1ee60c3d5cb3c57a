"""infopoint: the chatbot of Kraków's Information Point for Foreigners."""

__version__ = "0.1.0"
