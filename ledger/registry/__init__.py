"""The IP register: assets (ERC-721), licenses, pledges, metadata documents and the bank check."""
