"""Pieces every emulator needs: a controllable clock, rate limits, a store."""
