"""The support chat: understanding (`understanding`, `entities`), the dialogue policy (`dialogue`),
answers filled from shop data (`answers`), product retrieval (`retrieval`) and the conversation
services used by the widget's views and the staff inbox (`services`)."""
