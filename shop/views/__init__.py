"""Storefront views: thin wrappers that parse input with shop.forms and call shop.services."""
