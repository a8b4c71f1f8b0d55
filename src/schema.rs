//! Intacct field metadata to Arrow schemas; record pages to Arrow record batches.
