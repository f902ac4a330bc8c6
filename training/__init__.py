"""Fine-tuning a multi-label framing classifier into a framewatch checkpoint."""
