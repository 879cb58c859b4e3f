"""Gasless writes: user-signed ERC-2771 requests checked and relayed through the forwarder."""
