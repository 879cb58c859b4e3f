"""The market: fixed-price listings, escrowed offers, license sales and the demand board."""
