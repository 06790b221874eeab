"""Fix helpers shared by the rules (msfix/fixes/edits.py)."""
