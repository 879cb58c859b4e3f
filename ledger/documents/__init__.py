"""Documents people keep: timestamp certificates, bank due-diligence reports, audit reports (HTML and
PDF, Chinese and English) and the ERC-721 metadata wallets show.

Each document is one Jinja2 template (``templates/``) rendered to HTML, and the same HTML printed to
PDF with WeasyPrint. A PDF carries the data it was made from as an attachment (the certificate JSON,
the report as read from the chain), so the PDF alone proves itself: ``ipledger verify FILE CERT.pdf``,
``ipledger recheck REPORT.pdf``. Output is deterministic: the same input gives the same bytes (the
PDF's dates are the document's own time, its identifier a hash of its content).
"""
