"""Hooks other apps attach to. Sent inside the transition's transaction, so a receiver's writes commit or roll
back with it (the publicity app starts the notice on approval; see publicity/)."""

from django.dispatch import Signal

# project, actor, version (the SubmissionVersion approved)
project_approved = Signal()
