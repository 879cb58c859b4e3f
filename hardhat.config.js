// The Hardhat node the test matrix runs against (IPLEDGER_TEST_NODE=hardhat): `npx hardhat node`.
// Only the in-process network is configured; nothing is compiled by Hardhat (ipledger compiles with solcjs).
module.exports = {
  paths: { cache: ".cache/hardhat/cache", artifacts: ".cache/hardhat/artifacts" },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "shanghai",
      accounts: { mnemonic: "test test test test test test test test test test test junk", count: 10 },
    },
  },
};
