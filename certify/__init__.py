"""certify: the domain of electronic certified copies (chứng thực bản sao điện tử từ bản chính).

This package holds the rules: scans, PDF copies, signing, the register's numbering and fees.
It imports no web, database or S3 library and reads no environment (see docs/architecture.md).
"""
