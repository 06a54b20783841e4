"""Test helpers for shops and for this project: the emulator pytest plugin lives here."""
