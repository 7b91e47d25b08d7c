"""What every protocol front end shares: sessions, transfers, the spool, the intake pipeline, returns, the log."""
