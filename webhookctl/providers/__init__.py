"""Providers read and change one account on one vendor API.

They know nothing of plans, backends or rendering: they translate the vendor's
wire format to `webhookctl.model` and raise `webhookctl.errors.ProviderError`s.
"""
