"""Shared helpers of the test suite: real servers, fakes of internet services, clients."""
