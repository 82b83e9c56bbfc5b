"""Turns regions and attention maps into pixel masks, and masks into obfuscated pixels."""
