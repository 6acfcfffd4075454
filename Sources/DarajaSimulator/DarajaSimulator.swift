// Daraja simulator: built by the payments issue.
