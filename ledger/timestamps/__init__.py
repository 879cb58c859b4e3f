"""Proofs of existence: file digests, author-bound commitments, Merkle trees and certificates
(proofs), and the stamping service over the TimestampRegistry (service)."""
