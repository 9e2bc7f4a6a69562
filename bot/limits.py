"""Discord's size limits, named once (https://discord.com/developers/docs/resources/message)."""

MESSAGE = 2000
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FOOTER = 2048
EMBED_FIELD = 1024
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000
THREAD_NAME = 100
CHOICE_NAME = 100
CHOICE_VALUE = 100
CHOICES = 25
# A re-index report sits inside a code block in one message, with room for the words around it.
REPORT = 1800
