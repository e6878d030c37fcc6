"""Aisle AI: a plug-in Django app for behaviour capture, training, a model registry and serving.

It knows the host shop only through the adapter named in the `AI_SHOP_ADAPTER` setting
(see `ai.adapter.BaseShopAdapter`) and reads its own settings through `ai.conf.ai_settings`.
"""
