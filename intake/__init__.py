"""From a raw message to a stored submission: mailbox, triage, documents, forms, submissions."""
