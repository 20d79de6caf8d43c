"""Stand-ins for the outside services Warta publishes to, for `make run` and the tests."""
