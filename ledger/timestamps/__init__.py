"""Proofs of existence: file digests, author-bound commitments, Merkle trees and certificates
(proofs), the stamping service over the TimestampRegistry (service), and which of a file's
certificates holds, for a file or a folder (verification)."""
