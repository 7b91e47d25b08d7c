"""gga: the command line and the composition root (builds and wires everything); nothing imports it."""
