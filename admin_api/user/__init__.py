"""Domain users (guide IV and V): access managers (GL), co-managers (Co-GL) and users, with their applications."""
