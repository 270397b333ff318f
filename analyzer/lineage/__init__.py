"""Resolving the chain of parent image definitions behind a FROM line."""
