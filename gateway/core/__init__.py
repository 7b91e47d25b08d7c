"""What every protocol front end shares: the session, the authenticator (one login entry point), transfers (the
one settle path for uploads, downloads and pick-ups), the spool on disk, the transfer log and the event bus.
The intake pipeline it hands finished uploads to is ``gateway/pipeline.py``."""
