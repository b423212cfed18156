"""The ``nettwin`` command line: thin commands over the library."""
