"""Emulators of the vendor APIs webhookctl drives.

They implement the wire formats and signatures from the vendors' specs on their
own: nothing here is imported by the providers or the verification helpers, and
nothing here imports them, so a misreading on one side cannot hide the other's.
"""
