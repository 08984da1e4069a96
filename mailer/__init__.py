"""Everything the bot sends: the outbox, SMTP or .eml delivery, templates, receipts."""
